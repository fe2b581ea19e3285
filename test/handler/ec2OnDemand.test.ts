import { BackupClient, DescribeBackupJobCommand } from '@aws-sdk/client-backup';
import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type LambdaHandler, registry } from '#functions/index.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { loadFixture } from '../support/events.ts';
import { withoutKillSwitch } from '../support/killSwitch.ts';
import { makeContext } from '../support/lambda.ts';

// The EC2 client is about 550 KiB of each bundle that holds it: a function whose event needs no EC2
// call must not load it (its import is what a cold start pays). Recorded at its first import in this
// file; nothing here imports it but the code under test.
const ec2Loads: string[] = [];
vi.mock('@aws-sdk/client-ec2', async (importOriginal) => {
  ec2Loads.push('@aws-sdk/client-ec2');
  return importOriginal();
});

const ssm = mockClient(SSMClient);
const dynamodb = mockClient(DynamoDBClient);
const documents = mockClient(DynamoDBDocumentClient);
const sns = mockClient(SNSClient);
const budgets = mockClient(BudgetsClient);
const backup = mockClient(BackupClient);

beforeAll(() => {
  process.env.STATE_TABLE_NAME = 'state';
  process.env.PAGE_TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:pages';
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  withoutKillSwitch(ssm);
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(UpdateItemCommand).resolves({ Attributes: { repeats: { N: '0' } } });
  dynamodb.on(GetItemCommand).resolves({});
  documents.on(GetCommand).resolves({});
  documents.on(PutCommand).resolves({});
  documents.on(UpdateCommand).resolves({ Attributes: { repeats: 0 } });
  documents.on(BatchWriteCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  budgets.on(DescribeBudgetsCommand).resolves({ Budgets: [] });
  backup.on(DescribeBackupJobCommand).resolves({});
});

const handlerOf = async (name: string): Promise<LambdaHandler> => {
  const fn = registry.find((f) => f.name === name);
  if (!fn) throw new Error(`no function ${name} in the registry`);
  return fn.loadHandler();
};

describe('the EC2 client is loaded only by a call that needs it', () => {
  it('is not loaded by onCloudTrail, onCostAnomaly and onBackupFailure for events they only page', async () => {
    // Arrange: a root console sign-in (paged), a cost anomaly (paged) and a
    // failed backup of a resource type this code does not check (paged).
    const deliveries: [string, string][] = [
      ['onCloudTrail', 'onCloudTrail/root-console-sign-in.json'],
      ['onCostAnomaly', 'onCostAnomaly/anomaly-detected.json'],
      ['onBackupFailure', 'onBackupFailure/backup-job-failed.json'],
    ];
    // Act
    for (const [name, fixture] of deliveries) {
      const handler = await handlerOf(name);
      await handler(loadFixture(fixture), makeContext(`ops-autopilot-dev-${name}`));
    }
    // Assert: every delivery paged, and none loaded the EC2 client.
    expect(sns.commandCalls(PublishCommand).length).toBeGreaterThanOrEqual(deliveries.length);
    expect(ec2Loads).toEqual([]);
  });

  it('is loaded by the first EC2 call, which is made: onCloudTrail revokes a world-open ingress rule', async () => {
    // Arrange: the client mocked only now, so the test above saw the code's own loading alone.
    const { EC2Client, RevokeSecurityGroupIngressCommand } = await import('@aws-sdk/client-ec2');
    const ec2 = mockClient(EC2Client);
    ec2.on(RevokeSecurityGroupIngressCommand).resolves({ Return: true });
    const handler = await handlerOf('onCloudTrail');
    // Act
    await handler(
      loadFixture('onCloudTrail/security-group-open-world.json'),
      makeContext('ops-autopilot-dev-onCloudTrail'),
    );
    // Assert
    expect(ec2.commandCalls(RevokeSecurityGroupIngressCommand)).toHaveLength(1);
    ec2.restore();
  });
});
