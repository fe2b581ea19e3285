import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer: the shipped Sigma rule's record through onCloudTrail's handler, every client mocked.
const aws = await mockAwsClients();
const sns = aws.of(SNSClient);

const context = () => {
  const c = makeContext('ops-autopilot-dev-onCloudTrail');
  c.invokedFunctionArn = 'arn:aws:lambda:us-east-1:123456789012:function:ops-autopilot-dev-onCloudTrail';
  return c;
};

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(aws.of(SSMClient));
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  aws.answerAsEmptyStateTable();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
});

describe('onCloudTrail with the Sigma rules of detections/', () => {
  it("pages a record the shipped rule matches, with the rule's title and id, who did it and where", async () => {
    // Arrange
    const entry = registry.find((e) => e.name === 'onCloudTrail');
    if (!entry) throw new Error('onCloudTrail is not registered');
    const handler = await entry.loadHandler();
    // Act
    await handler(loadFixture('onCloudTrail/sigma/rds-master-password-modified.json'), context());
    // Assert
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(published).toHaveLength(1);
    const page = `${published[0]?.Subject}\n${published[0]?.Message}`;
    expect(page).toContain('Sigma rule: AWS RDS Master Password Changed');
    expect(page).toContain('8b1d4e7a-2c95-4f30-a6e2-7d9c0b1a2e3f');
    expect(page).toContain('attack.persistence, attack.t1098');
    expect(page).toContain('arn:aws:sts::123456789012:assumed-role/Admin/Jack');
    expect(page).toContain('us-east-1');
  });

  it('pages nothing for the near miss (no master password in the request)', async () => {
    // Arrange
    const entry = registry.find((e) => e.name === 'onCloudTrail');
    if (!entry) throw new Error('onCloudTrail is not registered');
    const handler = await entry.loadHandler();
    // Act
    await handler(loadFixture('onCloudTrail/sigma/rds-storage-modified.json'), context());
    // Assert
    expect(sns.commandCalls(PublishCommand)).toEqual([]);
  });
});
