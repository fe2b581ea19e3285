import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CreateDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, useMotoEnvironment } from '../../tools/local/moto.ts';
import { ROOT } from '../../tools/local/packaged.ts';
import { copyOfRepository, editStages } from '../support/deployRehearsal.ts';
import { claimSharedMoto } from '../support/sharedMoto.ts';

describe('the runbook documents, at deploy time', () => {
  let moto: Moto;
  const OpsConfigPlugin = createRequire(import.meta.url)(join(ROOT, 'plugins', 'ops-config.cjs')) as new (
    serverless: unknown,
    options: Record<string, string>,
    utils: { log: { notice: (m: string) => void } },
  ) => { hooks: Record<string, () => Promise<void> | void>; checkRunbookDocuments(): Promise<void> };
  class ServerlessError extends Error {}
  const notices: string[] = [];
  const plugin = () =>
    new OpsConfigPlugin(
      {
        classes: { Error: ServerlessError },
        getProvider: () => ({ getStage: () => 'dev', getRegion: () => 'us-east-1' }),
        processedInput: { commands: ['deploy'] },
      },
      {},
      { log: { notice: (m) => notices.push(m) } },
    );

  beforeAll(async () => {
    moto = await claimSharedMoto();
    useMotoEnvironment(moto.endpoint);
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('runs on deploy, not on package', () => {
    // Assert
    expect(Object.keys(plugin().hooks)).toContain('before:deploy:deploy');
    expect(String(plugin().hooks['before:package:finalize'])).not.toContain('checkRunbookDocuments');
  });

  it('fails the deploy naming a document that does not exist, in the error osls prints without a trace', async () => {
    // Act
    const check = plugin().checkRunbookDocuments();
    // Assert
    await expect(check).rejects.toBeInstanceOf(ServerlessError);
    await expect(plugin().checkRunbookDocuments()).rejects.toThrow(
      'ops-autopilot: a runbook in config/stages.ts cannot start: AWS-RestartEC2Instance: no such SSM document in this account and region',
    );
  });

  it('lets the deploy go on when every configured document exists', async () => {
    // Arrange: the emulator holds no AWS-owned documents; one of the same name stands in.
    await new SSMClient({}).send(
      new CreateDocumentCommand({
        Name: 'AWS-RestartEC2Instance',
        DocumentType: 'Automation',
        DocumentFormat: 'JSON',
        Content: automationContent({ InstanceId: 'StringList', AutomationAssumeRole: 'String' }),
      }),
    );
    // Act
    await plugin().checkRunbookDocuments();
    // Assert
    expect(notices).toContain('ops-autopilot: runbook documents found: AWS-RestartEC2Instance');
  });

  describe('a rule passing a parameter its own document does not take', () => {
    let copyPlugin: () => InstanceType<typeof OpsConfigPlugin>;

    beforeAll(async () => {
      // Arrange: the dev stage gains a rule starting the account's own document with a misspelled
      // parameter (ServiceNmae); the emulator holds that document, taking ServiceName.
      const copy = copyOfRepository();
      editStages(copy, (source) =>
        source.replace(
          "        name: 'page-tagged-critical',",
          `        name: 'restart-checkout',
        match: { alarmName: 'checkout-*' },
        runbook: {
          document: 'Acme-RestartService',
          parameters: { ServiceNmae: { value: 'checkout' } },
          scope: 'none',
          permissions: [{ actions: ['ecs:UpdateService'] }],
        },
      },
      {
        name: 'page-tagged-critical',`,
        ),
      );
      await new SSMClient({}).send(
        new CreateDocumentCommand({
          Name: 'Acme-RestartService',
          DocumentType: 'Automation',
          DocumentFormat: 'JSON',
          Content: automationContent({ ServiceName: 'String', AutomationAssumeRole: 'String' }),
        }),
      );
      const CopyPlugin = createRequire(import.meta.url)(
        join(copy, 'plugins', 'ops-config.cjs'),
      ) as typeof OpsConfigPlugin;
      copyPlugin = () =>
        new CopyPlugin(
          {
            classes: { Error: ServerlessError },
            getProvider: () => ({ getStage: () => 'dev', getRegion: () => 'us-east-1' }),
            processedInput: { commands: ['package'] },
          },
          {},
          { log: { notice: (m) => notices.push(m) } },
        );
    }, 60_000);

    it('is said to be checked at deploy by sls package, which cannot know that document', () => {
      // Act
      copyPlugin().hooks['after:package:finalize']?.();
      // Assert
      expect(notices).toContain(
        'ops-autopilot: runbook parameters of Acme-RestartService not checked (not an AWS-owned document this project knows); sls deploy checks them with ssm:DescribeDocument',
      );
    });

    it('fails the deploy in one line naming the rule, the parameter and the parameters the document takes', async () => {
      // Act
      const check = copyPlugin().checkRunbookDocuments();
      // Assert
      await expect(check).rejects.toThrow(
        'ops-autopilot: a runbook in config/stages.ts cannot start: alarmRules.2.runbook.parameters.ServiceNmae (alarm rule "restart-checkout"): not a parameter of Acme-RestartService (its parameters: AutomationAssumeRole, ServiceName)',
      );
    });
  });
});

/** An Automation document's content taking these parameters (name: type), with one harmless step. */
function automationContent(parameters: Record<string, string>): string {
  return JSON.stringify({
    schemaVersion: '0.3',
    parameters: Object.fromEntries(Object.entries(parameters).map(([name, type]) => [name, { type }])),
    mainSteps: [{ name: 'wait', action: 'aws:sleep', inputs: { Duration: 'PT1S' } }],
  });
}
