import { describe, expect, it } from 'vitest';
import type { AlarmIntent } from '#functions/onAlarm/plan.ts';
import { executors } from '#functions/onAlarm/spec.ts';
import type {
  RestorePublicAccessBlockIntent,
  RetryBackupIntent,
  RevokeIngressIntent,
  RunbookIntent,
  StartLoggingIntent,
  StopInstancesIntent,
} from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import { restorePublicAccessBlockExecutor } from '#shared/executors/publicAccessBlock.ts';
import { goneBy, retryBackupExecutor } from '#shared/executors/retryBackup.ts';
import { revokeIngressExecutor } from '#shared/executors/revokeIngress.ts';
import { runbookExecutor } from '#shared/executors/runbook.ts';
import { startLoggingExecutor } from '#shared/executors/startLogging.ts';
import { stopInstancesExecutor } from '#shared/executors/stopInstances.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { makeConfig } from '../support/config.ts';

describe('executor maps', () => {
  it('wire one executor per intent kind, under its own kind', () => {
    for (const [kind, executor] of Object.entries(executors)) expect(executor.kind).toBe(kind);
  });

  it('do not compile when an intent kind has no executor', () => {
    // `npm run typecheck` fails if this line ever compiles: the map must be exhaustive.
    // @ts-expect-error ssm.start-automation is missing
    const incomplete: ExecutorMap<AlarmIntent> = { 'sns.page': pageExecutor };
    expect(Object.keys(incomplete)).toEqual(['sns.page']);
  });

  it('mark every executor that changes resources as mutating, and paging as not', () => {
    expect(executors['ssm.start-automation'].mutates).toBe(true);
    expect(executors['sns.page'].mutates).toBe(false);
  });
});

describe('rate guard keys of the mutating executors', () => {
  const signal = (correlationId: string, incidentKey: string): Signal => ({
    kind: 'test.signal',
    severity: 'high',
    title: 't',
    summary: 's',
    account: '123456789012',
    region: 'us-east-1',
    resources: [],
    correlationId,
    incidentKey,
    occurredAt: '2026-11-22T00:00:00Z',
    evidence: {},
    links: [],
  });
  const ctx = (correlationId: string, incidentKey = 'incident-1') => ({
    config: makeConfig(),
    signal: signal(correlationId, incidentKey),
    prior: [],
  });

  it('count a runbook against its rule, once per incident whichever delivery asks', () => {
    // Arrange
    const intent: RunbookIntent = {
      kind: 'ssm.start-automation',
      document: 'AWS-RestartEC2Instance',
      parameters: { InstanceId: ['i-0abc1234def567890'] },
      clientToken: 'token',
      rule: 'web-cpu',
      reason: 'r',
    };
    // Act
    const first = runbookExecutor.rateGuard(intent, ctx('delivery-1', 'arn:alarm'));
    const duplicate = runbookExecutor.rateGuard(intent, ctx('delivery-2', 'arn:alarm'));
    const otherIncident = runbookExecutor.rateGuard(intent, ctx('delivery-3', 'arn:other'));
    // Assert
    expect(first.rule).toBe('web-cpu');
    expect(duplicate).toEqual(first);
    expect(otherIncident.actionId).not.toBe(first.actionId);
  });

  it('count idle stops against idle-stop, once per scan run (its retries included)', () => {
    // Arrange
    const intent: StopInstancesIntent = {
      kind: 'ec2.stop-instances',
      instances: [],
      reason: 'r',
      tagReason: 't',
    };
    // Act
    const run = stopInstancesExecutor.rateGuard(intent, ctx('run-1'));
    const retry = stopInstancesExecutor.rateGuard(intent, ctx('run-1'));
    // Assert
    expect(run).toEqual({ rule: 'idle-stop', actionId: 'run-1' });
    expect(retry).toEqual(run);
  });

  it('count a remediation against its detection, once per CloudTrail record (a forwarded copy included)', () => {
    // Arrange
    const record = 'cloudtrail:123456789012:event-1';
    const revoke: RevokeIngressIntent = {
      kind: 'ec2.revoke-ingress',
      groupId: 'sg-0123456789abcdef0',
      permissions: [],
      detection: 'security-group-open-to-world',
      reason: 'r',
    };
    const logging: StartLoggingIntent = {
      kind: 'cloudtrail.start-logging',
      trail: 'main',
      detection: 'cloudtrail-tampering',
      reason: 'r',
    };
    const block: RestorePublicAccessBlockIntent = {
      kind: 's3.restore-public-access-block',
      bucket: 'b',
      expectedOwner: '123456789012',
      detection: 's3-bucket-public',
      reason: 'r',
    };
    // Act
    const keys = [
      revokeIngressExecutor.rateGuard(revoke, ctx('envelope-1', record)),
      revokeIngressExecutor.rateGuard(revoke, ctx('forwarded-envelope', record)),
      startLoggingExecutor.rateGuard(logging, ctx('envelope-1', record)),
      restorePublicAccessBlockExecutor.rateGuard(block, ctx('envelope-1', record)),
    ];
    // Assert
    expect(keys.map((k) => k.rule)).toEqual([
      'security-group-open-to-world',
      'security-group-open-to-world',
      'cloudtrail-tampering',
      's3-bucket-public',
    ]);
    expect(keys[1]).toEqual(keys[0]);
  });

  it('count a backup retry against backup-retry, once per failed job whichever delivery asks', () => {
    // Arrange
    const retry = (failedJobId: string): RetryBackupIntent => ({
      kind: 'backup.retry-job',
      failedJobId,
      backupVaultName: 'Default',
      resourceArn: 'arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0',
      resourceType: 'EBS',
      iamRoleArn: 'arn:aws:iam::123456789012:role/backup',
      idempotencyToken: 'token',
      deleteAfterDays: 35,
      reason: 'r',
    });
    // Act
    const first = retryBackupExecutor.rateGuard(retry('job-1'), ctx('delivery-1'));
    const duplicate = retryBackupExecutor.rateGuard(retry('job-1'), ctx('delivery-2'));
    const otherJob = retryBackupExecutor.rateGuard(retry('job-2'), ctx('delivery-3'));
    // Assert
    expect(first).toEqual({ rule: 'backup-retry', actionId: 'job-1' });
    expect(duplicate).toEqual(first);
    expect(otherJob.actionId).not.toBe(first.actionId);
  });
});

describe("StartBackupJob's refusals that say something is gone", () => {
  const intent: RetryBackupIntent = {
    kind: 'backup.retry-job',
    failedJobId: 'job-1',
    backupVaultName: 'Default',
    resourceArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
    resourceType: 'DynamoDB',
    iamRoleArn: 'arn:aws:iam::123456789012:role/backup',
    idempotencyToken: 'token',
    deleteAfterDays: 35,
    reason: 'r',
  };
  const refusal = (name: string, message: string) => Object.assign(new Error(message), { name });

  it.each([
    [
      'a missing resource',
      refusal('ResourceNotFoundException', `Cannot find resource ${intent.resourceArn}`),
      'its resource no longer exists: table orders no longer exists',
    ],
    [
      'an invalid parameter naming a resource not found',
      refusal('InvalidParameterValueException', 'Resource not found: orders'),
      'its resource no longer exists: table orders no longer exists',
    ],
    [
      'a missing vault',
      refusal('ResourceNotFoundException', 'Backup vault Default does not exist'),
      'its backup vault Default no longer exists',
    ],
  ])('reads %s as gone', (_case, error, gone) => {
    // Act + Assert
    expect(goneBy(intent, error)).toBe(gone);
  });

  it.each([
    ['throttling', refusal('ThrottlingException', 'Rate exceeded')],
    ['another invalid parameter', refusal('InvalidParameterValueException', 'Lifecycle is out of range')],
    ['a denied call', refusal('AccessDeniedException', 'not authorized')],
  ])('does not read %s as gone: the retry fails and is retried', (_case, error) => {
    // Act + Assert
    expect(goneBy(intent, error)).toBeUndefined();
  });
});
