import { execFileSync, spawn } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';
import { ROOT, type Template } from '../../tools/local/packaged.ts';
import { packagedOnce } from '../support/packagedOnce.ts';

/**
 * Deploying, as docs/DEPLOY.md walks through it: the deployer policy, the outputs it shows, the rule it
 * adds with its runbook's permissions, the state table kept on remove, one readable message for a bad
 * configuration, and the runbook documents checked at deploy time only.
 */

interface Run {
  code: number | null;
  out: string;
}

/** `npx sls <args>` in `cwd`, stdout and stderr together, killed with its group after 3 minutes. */
function sls(cwd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['sls', ...args], {
      cwd,
      env: { ...process.env, AWS_ENDPOINT_URL: '', SLS_TELEMETRY_DISABLED: '1' },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, 'SIGKILL'), 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** The repository as a user has it (tracked and new files, node_modules linked), to edit its config. */
function copyOfRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-copy-'));
  copies.push(dir);
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

function editStages(dir: string, edit: (source: string) => string): void {
  const path = join(dir, 'config', 'stages.ts');
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error('the edit changed nothing in config/stages.ts');
  writeFileSync(path, after);
}

const deployDoc = readFileSync(join(ROOT, 'docs', 'DEPLOY.md'), 'utf8');

/** The fenced block of a given language that follows a heading of docs/DEPLOY.md. */
function blockAfter(heading: string, language: string): string {
  const from = deployDoc.indexOf(heading);
  const open = deployDoc.indexOf(`\`\`\`${language}\n`, from);
  if (from === -1 || open === -1) throw new Error(`no ${language} block after "${heading}" in DEPLOY.md`);
  const start = open + language.length + 4;
  return deployDoc.slice(start, deployDoc.indexOf('\n```', start));
}

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

function roleStatements(template: Template, roleId: string): Statement[] {
  const policies = (template.Resources[roleId]?.Properties.Policies ?? []) as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

const templateIn = (dir: string): Template & { Outputs: Record<string, unknown> } =>
  JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));

let dev: { run: Run; template: Template & { Outputs: Record<string, unknown> } };

beforeAll(async () => {
  const packaged = await packagedOnce('dev');
  dev = { run: { code: 0, out: packaged.out }, template: templateIn(packaged.dir) };
}, 300_000);

const POLICY_TEMPLATE = join(ROOT, 'deploy', 'deployer-policy.template.json');

describe('the deployer policy (deploy/deployer-policy.template.json)', () => {
  const template = JSON.parse(readFileSync(POLICY_TEMPLATE, 'utf8')) as {
    Resources: { DeployerPolicy: { Properties: { PolicyDocument: { Statement: Statement[] } } } };
  };
  const policy = template.Resources.DeployerPolicy.Properties.PolicyDocument;
  const granted = new Set(actionsOf(policy.Statement));

  /** What CloudFormation calls to create and delete each resource type the stack holds. */
  const needs: Record<string, string[]> = {
    'AWS::CloudWatch::Alarm': ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
    'AWS::CloudWatch::Dashboard': ['cloudwatch:PutDashboard', 'cloudwatch:DeleteDashboards'],
    'AWS::DynamoDB::Table': ['dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:UpdateTimeToLive'],
    'AWS::Events::Rule': ['events:PutRule', 'events:PutTargets', 'events:DeleteRule'],
    'AWS::IAM::Role': ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRole', 'iam:PassRole'],
    'AWS::KMS::Key': ['kms:CreateKey', 'kms:EnableKeyRotation', 'kms:ScheduleKeyDeletion'],
    'AWS::Lambda::EventInvokeConfig': ['lambda:PutFunctionEventInvokeConfig'],
    'AWS::Lambda::Function': ['lambda:CreateFunction', 'lambda:DeleteFunction'],
    'AWS::Lambda::Permission': ['lambda:AddPermission', 'lambda:RemovePermission'],
    'AWS::Lambda::Version': ['lambda:PublishVersion'],
    'AWS::Logs::LogGroup': ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteLogGroup'],
    'AWS::S3::Bucket': ['s3:CreateBucket', 's3:DeleteBucket', 's3:PutEncryptionConfiguration'],
    'AWS::S3::BucketPolicy': ['s3:PutBucketPolicy'],
    'AWS::SNS::Subscription': ['sns:Subscribe', 'sns:Unsubscribe'],
    'AWS::SNS::Topic': ['sns:CreateTopic', 'sns:DeleteTopic'],
    'AWS::SQS::Queue': ['sqs:CreateQueue', 'sqs:DeleteQueue'],
    'AWS::SQS::QueuePolicy': ['sqs:SetQueueAttributes'],
  };

  it('grants what every resource type of the packaged stack needs', () => {
    // Arrange
    const types = [...new Set(Object.values(dev.template.Resources).map((r) => r.Type))].sort();
    // Assert: a new resource type needs its actions in the policy and in this table.
    for (const type of types) {
      expect(
        needs[type],
        `${type}: add its actions to deploy/deployer-policy.template.json and here`,
      ).toBeDefined();
      for (const action of needs[type] ?? []) expect(granted, `${type} needs ${action}`).toContain(action);
    }
    expect(granted).toContain('ssm:DescribeDocument');
    expect(granted).toContain('cloudformation:CreateChangeSet');
  });

  it("names every resource in the deploying account's partition, never aws's by hand (aws-cn, aws-us-gov)", () => {
    // Arrange: every ARN the statements name, Fn::Sub strings included.
    const arns = JSON.stringify(policy.Statement.map((s) => s.Resource)).match(/arn:[^"]*/g) ?? [];
    // Assert
    expect(arns.length).toBeGreaterThan(0);
    for (const arn of arns) expect(arn, arn).toMatch(/^arn:\$\{AWS::Partition\}:/);
  });

  it('is a template cfn-lint passes', () => {
    // Act
    const lint = (() => {
      try {
        execFileSync('cfn-lint', [POLICY_TEMPLATE], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${process.env.HOME}/.pyenv/shims:${process.env.PATH}` },
        });
        return '';
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    })();
    // Assert
    expect(lint).toBe('');
  }, 120_000);

  it("becomes, through DEPLOY.md's jq line, the same policy with the partition written in", () => {
    // Arrange: the doc's command for the aws-us-gov partition, run where the repository is.
    const line = blockAfter('Without CloudFormation', 'sh')
      .split('\n')
      .find((l) => l.startsWith('jq '));
    if (line === undefined) throw new Error('no jq line after "Without CloudFormation" in DEPLOY.md');
    const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-policy-'));
    copies.push(dir);
    const command = line.replace('--arg partition aws ', '--arg partition aws-us-gov ');
    // Act
    execFileSync('bash', [
      '-c',
      `cd ${JSON.stringify(ROOT)} && ${command.replace('> deployer-policy.json', `> ${join(dir, 'policy.json')}`)}`,
    ]);
    const plain = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')) as { Statement: Statement[] };
    // Assert
    expect(JSON.stringify(plain)).not.toContain('Fn::Sub');
    expect(JSON.stringify(plain)).toBe(
      JSON.stringify(policy).replace(
        /\{"Fn::Sub":"arn:\$\{AWS::Partition\}:([^"]*)"\}/g,
        '"arn:aws-us-gov:$1"',
      ),
    );
  });

  it('has no wildcard action and keeps every statement with resources to the stack by name where IAM can', () => {
    // Assert
    for (const action of granted) expect(action, action).not.toMatch(/\*/);
    const unscoped = policy.Statement.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(unscoped.sort()).toEqual([
      'cloudformation:ListExports',
      'cloudformation:ValidateTemplate',
      'kms:CreateKey',
      'logs:DescribeLogGroups',
    ]);
  });
});

describe('the walkthrough (docs/DEPLOY.md) against sls package', () => {
  it('names stack outputs the packaged template has, and every registered function', () => {
    // Arrange
    const outputs = blockAfter('A successful deploy prints', 'text');
    const stackOutputs = outputs.slice(outputs.indexOf('Stack Outputs:'));
    const functions = outputs.slice(outputs.indexOf('functions:'), outputs.indexOf('Stack Outputs:'));
    // Act
    const outputNames = [...stackOutputs.matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]);
    const functionNames = [...functions.matchAll(/^ {2}(\w+): ops-autopilot-prod-(\w+) /gm)];
    // Assert
    expect(outputNames.length).toBeGreaterThan(0);
    for (const name of outputNames) expect(Object.keys(dev.template.Outputs), name).toContain(name);
    expect(functionNames.map((m) => m[1]).sort()).toEqual(registry.map((e) => e.name).sort());
    for (const m of functionNames) expect(m[2]).toBe(m[1]);
  });

  it('shows the line sls package prints when it skips the document check', () => {
    // Assert
    expect(dev.run.out).toContain(
      'ops-autopilot: runbook documents not checked (offline package); sls deploy checks them with ssm:DescribeDocument',
    );
    expect(deployDoc).toContain(
      'ops-autopilot: runbook documents not checked (offline package); sls deploy checks them with ssm:DescribeDocument',
    );
  });

  it('counts, in its cost estimate, the alarms, dashboards and keys the packaged stack has', () => {
    // Arrange
    const cost = deployDoc.slice(deployDoc.indexOf('## 9. What it costs'), deployDoc.indexOf('## 10.'));
    // A stack as packaged without its conditions' extras (the forward rules' alarms exist only in a
    // us-east-1 stack that forwards global events; the estimate says so apart).
    const count = (type: string) =>
      Object.values(dev.template.Resources).filter(
        (r) => r.Type === type && (r as { Condition?: string }).Condition === undefined,
      ).length;
    // Act
    const said = (item: string) => Number(cost.match(new RegExp(`\\| ${item} \\((\\d+)`))?.[1]);
    // Assert
    expect(said('CloudWatch alarms')).toBe(count('AWS::CloudWatch::Alarm'));
    expect(said('CloudWatch dashboard')).toBe(count('AWS::CloudWatch::Dashboard'));
    expect(said('KMS key')).toBe(count('AWS::KMS::Key'));
    expect(cost).toContain(`| $${(count('AWS::CloudWatch::Alarm') * 0.1).toFixed(2)} |`);
  });

  it('names, under Remove, every resource type the stack keeps when it is removed', () => {
    // Arrange
    const remove = deployDoc.slice(deployDoc.indexOf('## 10. Remove'));
    // Act
    const kept = Object.values(dev.template.Resources)
      .filter((r) => (r as unknown as { DeletionPolicy?: string }).DeletionPolicy === 'Retain')
      .map((r) => r.Type);
    // Assert
    expect(kept.length).toBeGreaterThan(0);
    for (const type of new Set(kept)) expect(remove, type).toContain(`\`${type}\``);
  });

  it('keeps the state table on remove and on replacement by default', () => {
    // Assert
    const table = dev.template.Resources.StateTable as unknown as Record<string, unknown>;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it("fits the automation role to AWS-RestartEC2Instance when that is the stage's only runbook", () => {
    // Assert
    const actions = actionsOf(roleStatements(dev.template, 'RunbookAutomationRole'));
    expect(actions.sort()).toEqual([
      'ec2:DescribeInstanceStatus',
      'ec2:DescribeInstances',
      'ec2:StartInstances',
      'ec2:StopInstances',
    ]);
  });
});

describe('a stage edited as the walkthrough says', () => {
  let copy: string;
  let packaged: { run: Run; template: Template & { Outputs: Record<string, unknown> } };

  beforeAll(async () => {
    // Arrange: a stage holding only the rule of DEPLOY.md step 6, packaged with retainStateTable=false.
    copy = copyOfRepository();
    const rule = blockAfter('## 6. Add a rule', 'ts');
    editStages(copy, (source) =>
      source.replace(
        'export const stages: Record<string, StageConfigInput> = {\n',
        `export const stages: Record<string, StageConfigInput> = {\n  walkthrough: { dryRun: true, alarmRules: [${rule}] },\n`,
      ),
    );
    const out = join(copy, '.serverless');
    const run = await sls(copy, [
      'package',
      '--stage',
      'walkthrough',
      '--param=retainStateTable=false',
      '--package',
      out,
    ]);
    if (run.code !== 0) throw new Error(run.out);
    packaged = { run, template: templateIn(out) };
  }, 240_000);

  it("gives the automation role the rule's declared actions and nothing else", () => {
    // Act
    const statements = roleStatements(packaged.template, 'RunbookAutomationRole');
    // Assert
    expect(statements).toEqual([
      {
        Sid: 'RebootOrdersDatabase1',
        Effect: 'Allow',
        Action: ['rds:RebootDBInstance', 'rds:DescribeDBInstances'],
        Resource: [
          {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
            'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:orders-db-*',
          },
        ],
      },
    ]);
  });

  it('lets onAlarm start that document only', () => {
    // Arrange
    const onAlarmRole = Object.entries(packaged.template.Resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('OnAlarm'),
    )?.[0] as string;
    // Act
    const start = roleStatements(packaged.template, onAlarmRole).find(
      (s) => s.Sid === 'StartConfiguredRunbooks',
    );
    // Assert
    expect(JSON.stringify(start?.Resource)).toContain('automation-definition/AWS-RebootRdsInstance:*');
    expect(JSON.stringify(start?.Resource)).not.toContain('AWS-RestartEC2Instance');
  });

  it('lets sls remove delete the state table when retainStateTable is false', () => {
    // Assert
    const table = packaged.template.Resources.StateTable as unknown as Record<string, unknown>;
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.UpdateReplacePolicy).toBe('Delete');
  });

  it('passes cfn-lint', () => {
    // Act
    const lint = (() => {
      try {
        execFileSync('cfn-lint', [join(copy, '.serverless', 'cloudformation-template-update-stack.json')], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${process.env.HOME}/.pyenv/shims:${process.env.PATH}` },
        });
        return '';
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    })();
    // Assert
    expect(lint).toBe('');
  }, 120_000);
});

describe('a typo in config/stages.ts', () => {
  it('stops sls package with one message naming the rule, the value and the values allowed, without a stack trace', async () => {
    // Arrange: web-cpu's parameter format with one letter missing.
    const copy = copyOfRepository();
    editStages(copy, (source) => {
      const at = source.indexOf("name: 'web-cpu'");
      const format = source.indexOf("format: 'ec2-instance-id'", at);
      return `${source.slice(0, format)}format: 'ec2-instanceid'${source.slice(format + 25)}`;
    });
    // Act
    const run = await sls(copy, ['package', '--stage', 'dev', '--package', join(copy, '.serverless')]);
    // Assert
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      'ops-autopilot: config/stages.ts is invalid: stage "dev": alarmRules.1.runbook.parameters.InstanceId.format (alarm rule "web-cpu"): "ec2-instanceid" is not one of "ec2-instance-id" | "security-group-id" |',
    );
    expect(run.out.split('config/stages.ts is invalid').length - 1).toBe(1);
    expect(run.out).not.toMatch(/^\s+at /m);
    expect(run.out).not.toContain('Invalid input');
  }, 240_000);
});

describe('a misspelled runbook parameter in config/stages.ts', () => {
  it("stops sls package with one message naming the rule, the parameter and the AWS-owned document's parameters", async () => {
    // Arrange: web-cpu passes InstanceID; AWS-RestartEC2Instance takes InstanceId.
    const copy = copyOfRepository();
    editStages(copy, (source) => {
      const at = source.indexOf("name: 'web-cpu'");
      const parameter = source.indexOf('parameters: { InstanceId:', at);
      return `${source.slice(0, parameter)}parameters: { InstanceID:${source.slice(parameter + 'parameters: { InstanceId:'.length)}`;
    });
    // Act
    const run = await sls(copy, ['package', '--stage', 'dev', '--package', join(copy, '.serverless')]);
    // Assert
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      'ops-autopilot: config/stages.ts is invalid: stage "dev": alarmRules.1.runbook.parameters.InstanceID (alarm rule "web-cpu"): not a parameter of AWS-RestartEC2Instance (its parameters: AutomationAssumeRole, InstanceId)',
    );
    expect(run.out).not.toMatch(/^\s+at /m);
  }, 240_000);
});

describe('a bad configuration, packaged again and again', () => {
  it("ends sls package with the configuration error as its last line, never esbuild's goroutine dump", async () => {
    // Arrange: web-cpu's parameter format with one letter missing.
    const copy = copyOfRepository();
    editStages(copy, (source) => {
      const at = source.indexOf("name: 'web-cpu'");
      const format = source.indexOf("format: 'ec2-instance-id'", at);
      return `${source.slice(0, format)}format: 'ec2-instanceid'${source.slice(format + 25)}`;
    });
    const runs: Run[] = [];
    // Act: the dump came from a race (esbuild's service left with an unanswered ping when sls exits),
    // so one run proves little; three in a row, as a user retrying would.
    for (let i = 0; i < 3; i++) {
      runs.push(await sls(copy, ['package', '--stage', 'dev', '--package', join(copy, '.serverless')]));
    }
    // Assert
    for (const run of runs) {
      const lines = run.out.trimEnd().split('\n');
      expect(run.code, run.out).toBe(1);
      expect(run.out, run.out).not.toContain('goroutine');
      expect(run.out).not.toContain('all goroutines are asleep');
      expect(lines.at(-1), run.out).toContain('ops-autopilot: config/stages.ts is invalid: stage "dev": ');
    }
  }, 600_000);
});

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
    moto = await startMoto();
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
