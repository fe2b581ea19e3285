/**
 * The idle scan's fan-out queue as the plugin derives it from stopIdleInstances' description: on the
 * organization's stage only, one target per invocation, a bounded concurrency, a dead-letter queue that
 * pages, and a role that may queue and consume on that queue alone.
 */
import { describe, expect, it } from 'vitest';
import { stageConfigOf } from '#config/stageConfig.ts';
import { addFunctionResources, stackTarget } from '#deploy/stack/index.ts';
import type { Resources } from '#deploy/stack/names.ts';
import { registry } from '#functions/index.ts';

const ROOT = process.cwd();
const lambdaIds = new Map(registry.map(({ name }) => [name, `${name}LambdaFunction`]));

/** The compiled template's functions as osls writes them, then what the plugin adds. */
function stackOf(stage: string, region: string): Resources {
  const config = stageConfigOf(stage);
  const resources: Resources = Object.fromEntries(
    [...lambdaIds.values()].map((id) => [
      id,
      { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { STAGE: stage } } } },
    ]),
  );
  addFunctionResources(stackTarget(stage, region, ROOT, config), registry, config, resources, lambdaIds);
  return resources;
}

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown };
const statementsOf = (resources: Resources, roleId: string): Statement[] =>
  (
    (resources[roleId]?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]
  ).flatMap((p) => p.PolicyDocument.Statement);

describe("the organization's idle-scan fan-out", () => {
  it('hands stopIdleInstances one target per invocation, two at a time, from its queue', () => {
    // Act
    const stack = stackOf('org', 'us-east-1');
    // Assert
    expect(stack.IdleScanTargetsQueueMapping?.Properties).toEqual({
      EventSourceArn: { 'Fn::GetAtt': ['IdleScanTargetsQueue', 'Arn'] },
      FunctionName: { Ref: 'stopIdleInstancesLambdaFunction' },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
      Enabled: true,
    });
    expect(stack.stopIdleInstancesLambdaFunction?.Properties.Environment).toEqual({
      Variables: { STAGE: 'org', ORG_SCAN_QUEUE_URL: { Ref: 'IdleScanTargetsQueue' } },
    });
  });

  it('parks a target that failed five receives in a dead-letter queue, which pages', () => {
    // Act
    const stack = stackOf('org', 'us-east-1');
    // Assert
    expect(stack.IdleScanTargetsQueue?.Properties).toMatchObject({
      QueueName: 'ops-autopilot-org-idle-scan-targets',
      // Six times the function's 300 s timeout, as Lambda advises for a queue it polls.
      VisibilityTimeout: 1800,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': ['IdleScanTargetsQueueDeadLetter', 'Arn'] },
        maxReceiveCount: 5,
      },
    });
    expect(stack.IdleScanTargetsQueueDeadLetter?.Properties.QueueName).toBe(
      'ops-autopilot-org-idle-scan-targets-dlq',
    );
    expect(stack.IdleScanTargetsQueueDeadLetterAlarm?.Properties).toMatchObject({
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': ['IdleScanTargetsQueueDeadLetter', 'QueueName'] } },
      ],
      AlarmActions: [{ Ref: 'PageTopic' }],
    });
  });

  it('lets stopIdleInstances queue and consume the scan targets on that queue alone', () => {
    // Act
    const statements = statementsOf(stackOf('org', 'us-east-1'), 'StopIdleInstancesRole');
    // Assert
    const onQueue = statements.filter((s) => JSON.stringify(s.Resource).includes('IdleScanTargets'));
    expect(onQueue.map((s) => [s.Sid, s.Action, s.Resource])).toEqual([
      ['QueueScanTargets', 'sqs:SendMessage', { 'Fn::GetAtt': ['IdleScanTargetsQueue', 'Arn'] }],
      [
        'ConsumeScanTargets',
        ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'],
        { 'Fn::GetAtt': ['IdleScanTargetsQueue', 'Arn'] },
      ],
    ]);
  });

  it('adds nothing of it to a single-account stage (dev)', () => {
    // Act
    const stack = stackOf('dev', 'eu-west-1');
    // Assert
    expect(Object.keys(stack).filter((id) => id.startsWith('IdleScanTargets'))).toEqual([]);
    expect(JSON.stringify(statementsOf(stack, 'StopIdleInstancesRole'))).not.toContain('IdleScanTargets');
    expect(stack.stopIdleInstancesLambdaFunction?.Properties.Environment).toEqual({
      Variables: { STAGE: 'dev' },
    });
  });
});
