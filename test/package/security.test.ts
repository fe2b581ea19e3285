import { BudgetsClient, DescribeBudgetsCommand } from '@aws-sdk/client-budgets';
import { CloudTrailClient, GetTrailStatusCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import {
  CloudWatchClient,
  GetMetricDataCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
} from '@aws-sdk/client-resource-groups-tagging-api';
import { GetPublicAccessBlockCommand, PutPublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registry } from '#functions/index.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { functionLogicalId, type Template } from '../../tools/local/packaged.ts';
import {
  list,
  type ScopedStatement as Statement,
  unscopedFindings,
  wildcardFindings,
} from '../support/iamScope.ts';
import { type PackagedRun, packagedOnce } from '../support/packagedOnce.ts';

/**
 * The stack's security properties, on the packaged template, for every registered function. Checked
 * in test/package/iam.package.test.ts and not repeated here: each function's role is its own, with no
 * `*` or `service:*` action, and holds exactly the actions it declares; the state table condition
 * names the function's own key prefix; the paging topic is encrypted with the stack's KMS key; every
 * EventBridge target has a retry policy and the events dead-letter queue; failed asynchronous
 * invocations go to the failure queue.
 */

let packaged: PackagedRun;

beforeAll(async () => {
  packaged = await packagedOnce('dev');
}, 300_000);

/** Every IAM role of the stack with its inline statements: the functions', the runbooks', the forwarder's. */
function roles(template: Template): [string, Statement[]][] {
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .map(([id, r]) => [
      id,
      ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
        (p) => p.PolicyDocument.Statement,
      ),
    ]);
}

function roleIdOfFunction(template: Template, name: string): string {
  const role = template.Resources[functionLogicalId(template, name)]?.Properties.Role as
    | { 'Fn::GetAtt': [string, string] }
    | undefined;
  if (!role) throw new Error(`${name} has no role`);
  return role['Fn::GetAtt'][0];
}

function roleOfFunction(template: Template, name: string): Statement[] {
  const roleId = roleIdOfFunction(template, name);
  return roles(template).find(([id]) => id === roleId)?.[1] ?? [];
}

const functions = registry.map((entry) => [entry.name, entry] as const);

/**
 * The DynamoDB actions of a statement that read or write items. DescribeTable reads a table's metadata,
 * no item (onBackupFailure: does a backed-up table still exist?).
 */
const itemActions = (st: Statement): string[] =>
  list(st.Action).filter((a) => a.startsWith('dynamodb:') && a !== 'dynamodb:DescribeTable');

describe('the packaged template: least privilege', () => {
  it('grants no wildcard action (`*`, `service:*`) and no NotAction or NotResource in any role of the stack', () => {
    // Arrange
    const all = roles(packaged.template);
    // Assert
    expect(all.length).toBeGreaterThan(registry.length);
    expect(wildcardFindings(all)).toEqual([]);
  });

  it('scopes every mutating action by resource (never `*`) or by a condition on the resource', () => {
    // Assert
    expect(unscopedFindings(roles(packaged.template))).toEqual([]);
  });

  it.each(functions)(
    'lets only %s reach its own state-table records, and only on the state table',
    (name) => {
      // Arrange
      const prefix = `ops-autopilot-dev-${name}#*`;
      const holders = roles(packaged.template)
        .filter(([, statements]) => JSON.stringify(statements).includes(JSON.stringify(prefix)))
        .map(([id]) => id);
      const own = roleOfFunction(packaged.template, name).filter((st) => itemActions(st).length > 0);
      // Assert
      expect(holders).toEqual([roleIdOfFunction(packaged.template, name)]);
      expect(own.length).toBeGreaterThan(0);
      for (const st of own) {
        expect(st.Resource, st.Sid).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
        expect(list(st.Action).filter((a) => a === 'dynamodb:Scan' || a === 'dynamodb:Query')).toEqual([]);
      }
    },
  );

  it('gives no role access to the state table without a key-prefix condition', () => {
    // Arrange
    const open: string[] = [];
    for (const [role, statements] of roles(packaged.template)) {
      for (const st of statements) {
        if (itemActions(st).length === 0) continue;
        // A prefix (its own records, the shared execution records) or one exact key (the stop budget).
        const keys =
          st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ??
          st.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'];
        if (!Array.isArray(keys) || keys.length === 0) open.push(`${role} ${st.Sid}`);
      }
    }
    // Assert
    expect(open).toEqual([]);
  });
});

describe('the packaged template: data at rest and logs', () => {
  it('encrypts every topic with KMS, every queue and every table, and rotates its keys', () => {
    // Arrange
    const resources = Object.entries(packaged.template.Resources);
    const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
    // Assert
    expect(ofType('AWS::SQS::Queue').length).toBeGreaterThanOrEqual(2);
    for (const [id, topic] of ofType('AWS::SNS::Topic')) {
      expect(topic.Properties.KmsMasterKeyId, id).toBeDefined();
    }
    for (const [id, queue] of ofType('AWS::SQS::Queue')) {
      const p = queue.Properties;
      expect(p.SqsManagedSseEnabled === true || p.KmsMasterKeyId !== undefined, id).toBe(true);
    }
    for (const [id, table] of ofType('AWS::DynamoDB::Table')) {
      expect(table.Properties.SSESpecification, id).toMatchObject({ SSEEnabled: true });
    }
    for (const [id, key] of ofType('AWS::KMS::Key')) {
      expect(key.Properties.EnableKeyRotation, id).toBe(true);
    }
  });

  it.each(functions)('keeps the logs of %s for a bounded time (a log group with a retention)', (name) => {
    // Arrange
    const fn = packaged.template.Resources[functionLogicalId(packaged.template, name)];
    const groups = Object.values(packaged.template.Resources).filter(
      (r) =>
        r.Type === 'AWS::Logs::LogGroup' &&
        r.Properties.LogGroupName === `/aws/lambda/${fn?.Properties.FunctionName}`,
    );
    // Assert
    expect(groups).toHaveLength(1);
    expect(groups[0]?.Properties.RetentionInDays).toEqual(expect.any(Number));
  });

  it('gives every log group of the stack a retention', () => {
    // Arrange
    const groups = Object.entries(packaged.template.Resources).filter(
      ([, r]) => r.Type === 'AWS::Logs::LogGroup',
    );
    // Assert
    expect(groups.length).toBeGreaterThanOrEqual(registry.length);
    for (const [id, group] of groups)
      expect(group.Properties.RetentionInDays, id).toEqual(expect.any(Number));
  });
});

// Log hygiene: every fixture through every handler, every AWS client mocked (the kit finds them all:
// nothing leaves the process).
const aws = await mockAwsClients();
aws.of(SSMClient).on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: 'exec-1' });
aws.of(SNSClient).on(PublishCommand).resolves({ MessageId: 'm-1' });
aws.answerAsEmptyStateTable();
aws
  .of(CloudWatchClient)
  .on(ListTagsForResourceCommand)
  .resolves({ Tags: [] })
  .on(GetMetricDataCommand)
  .resolves({ MetricDataResults: [] });
aws
  .of(EC2Client)
  .on(DescribeInstancesCommand)
  .resolves({ Reservations: [] })
  .on(DescribeInstanceAttributeCommand)
  .resolves({})
  .on(StopInstancesCommand)
  .resolves({})
  .on(RevokeSecurityGroupIngressCommand)
  .resolves({});
aws.of(ResourceGroupsTaggingAPIClient).on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
aws.of(S3Client).on(GetPublicAccessBlockCommand).resolves({}).on(PutPublicAccessBlockCommand).resolves({});
aws
  .of(CloudTrailClient)
  .on(GetTrailStatusCommand)
  .resolves({ IsLogging: false })
  .on(StartLoggingCommand)
  .resolves({});
aws.of(BudgetsClient).on(DescribeBudgetsCommand).resolves({ Budgets: [] });

/** An IAM access key id (long-term AKIA, temporary ASIA): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html */
const ACCESS_KEY_ID = /(AKIA|ASIA)[A-Z0-9]{16}/;

describe('log hygiene', () => {
  const lines: { level: string; text: string; fixture: string }[] = [];
  let current = '';
  const saved = process.env.DRY_RUN;

  beforeAll(async () => {
    // Live, so every executor runs and logs what it would in AWS.
    process.env.DRY_RUN = 'false';
    resetConfigForTests();
    // Every level printed: the logger reads its level once, when its module loads. Event logging asked
    // for too, as an operator debugging a stage might: the event must stay out of the logs anyway.
    process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
    process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
    vi.resetModules();
    const { logger } = await import('#shared/runtime/powertools.ts');
    const capture = (text: string) => {
      const level = String((JSON.parse(text) as { level?: string }).level ?? '');
      lines.push({ level, text, fixture: current });
    };
    // The logger prints each entry as one JSON line through its console: read them there.
    (logger as unknown as { console: Record<string, (text: string) => void> }).console = {
      debug: capture,
      info: capture,
      warn: capture,
      error: capture,
      log: capture,
      trace: capture,
    };
    for (const entry of registry) {
      const handler = await entry.loadHandler();
      const folder = entry.deployment.sampleFixture.split('/')[0] as string;
      for (const fixture of listFixtures().filter((f) => f.startsWith(`${folder}/`))) {
        current = fixture;
        await handler(loadFixture(fixture), makeContext(`ops-autopilot-dev-${entry.name}`)).catch(
          () => undefined,
        );
      }
    }
  }, 120_000);

  afterAll(() => {
    aws.restore();
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    delete process.env.POWERTOOLS_LOGGER_LOG_EVENT;
    if (saved === undefined) delete process.env.DRY_RUN;
    else process.env.DRY_RUN = saved;
    resetConfigForTests();
  });

  it('logs no access key id at INFO or below', () => {
    // Arrange
    const quiet = lines.filter((l) => l.level === 'INFO' || l.level === 'DEBUG' || l.level === 'TRACE');
    const leaks = quiet.filter((l) => ACCESS_KEY_ID.test(l.text)).map((l) => `${l.fixture}: ${l.text}`);
    // Assert
    expect(quiet.length).toBeGreaterThan(registry.length);
    expect(leaks).toEqual([]);
  });

  it('takes no correlation id from an event id that is not one (a 2 KB id would otherwise be on every line)', () => {
    // Arrange: the invalid fixtures include an event whose id is 2,000 characters.
    const ids = lines.map((l) => (JSON.parse(l.text) as { correlation_id?: unknown }).correlation_id);
    const oversized = ids.filter((id) => typeof id === 'string' && !/^[\x21-\x7e]{1,128}$/.test(id));
    // Assert
    expect(ids.filter((id) => id !== undefined).length).toBeGreaterThan(registry.length);
    expect(oversized.map((id) => String(id).slice(0, 40))).toEqual([]);
  });

  it('logs no whole event, nor its whole detail, at INFO or below, even with event logging turned on', () => {
    // Arrange
    const quiet = lines.filter((l) => l.level === 'INFO' || l.level === 'DEBUG' || l.level === 'TRACE');
    const whole = quiet.filter((l) => {
      const event = loadFixture<{ detail?: unknown }>(l.fixture);
      const parts = [event, event.detail].filter((p) => p !== undefined && JSON.stringify(p).length > 40);
      return parts.some(
        (p) =>
          l.text.includes(JSON.stringify(p)) ||
          l.text.includes(JSON.stringify(JSON.stringify(p)).slice(1, -1)),
      );
    });
    // Assert
    expect(whole.map((l) => `${l.fixture}: ${l.text.slice(0, 200)}`)).toEqual([]);
  });
});
