import type { RegistryEntry } from '#functions/index.ts';
import { FORWARD_CONDITION } from './forwarding.ts';
import { type CfnResource, pascal, type StackTarget } from './names.ts';
import { ruleSuffixes } from './patterns.ts';

interface Widget {
  type: string;
  properties: Record<string, unknown>;
}

/**
 * One dashboard: each function's own metrics, then every function's errors and throttles, the
 * queues, every rule's failed invocations and the state of every alarm the template holds.
 */
export function dashboard(
  target: StackTarget,
  entries: readonly RegistryEntry[],
  lambdaIds: ReadonlyMap<string, string>,
  alarms: readonly [string, CfnResource][],
  forwardSuffixes: readonly string[],
): CfnResource {
  // An alarm that exists only where the stack forwards global events cannot be named elsewhere.
  const conditional = alarms.filter(([, a]) => a.Condition !== undefined);
  for (const [id, a] of conditional) {
    if (a.Condition !== FORWARD_CONDITION)
      throw new Error(`ops-autopilot: the dashboard cannot show ${id} (condition ${a.Condition})`);
  }
  const always = alarms.filter(([, a]) => a.Condition === undefined).map(([id]) => id);
  const body = (withForwarding: boolean) =>
    dashboardBody(
      target,
      entries,
      lambdaIds,
      withForwarding ? [...always, ...conditional.map(([id]) => id)] : always,
      withForwarding ? forwardSuffixes : [],
    );
  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: `ops-autopilot-${target.stage}-${target.region}`,
      DashboardBody:
        forwardSuffixes.length > 0 ? { 'Fn::If': [FORWARD_CONDITION, body(true), body(false)] } : body(false),
    },
  };
}

/** The dashboard's body (an Fn::Sub), with the failed invocations of these other rules beside the functions'. */
function dashboardBody(
  target: StackTarget,
  entries: readonly RegistryEntry[],
  lambdaIds: ReadonlyMap<string, string>,
  alarmIds: readonly string[],
  otherRuleSuffixes: readonly string[],
): { 'Fn::Sub': [string, Record<string, unknown>] } {
  const vars: Record<string, unknown> = { Stage: target.stage };
  const metric = (title: string, stat: string, period: number, metrics: unknown[]): Widget => ({
    type: 'metric',
    properties: { title, region: `\${AWS::Region}`, stat, period, metrics },
  });
  const widgets: Widget[] = [];
  for (const { name, deployment } of entries) {
    for (const w of deployment.monitoring.widgets) {
      const [first, ...rest] = w.metrics;
      widgets.push(
        metric(w.title, 'Sum', w.period ?? deployment.monitoring.period, [
          ['OpsAutopilot', first, 'service', 'ops-autopilot', 'function', name],
          ...rest.map((m) => ['.', m, '.', '.', '.', '.']),
        ]),
      );
    }
  }
  widgets.push(
    metric(
      'Function errors and throttles',
      'Sum',
      300,
      entries.flatMap(({ name }) => {
        vars[`${pascal(name)}Fn`] = { Ref: lambdaIds.get(name) };
        return [
          ['AWS/Lambda', 'Errors', 'FunctionName', `\${${pascal(name)}Fn}`],
          ['.', 'Throttles', '.', '.'],
        ];
      }),
    ),
    // The runtime's guards, emitted by every function: the kill switch forcing dry-run, a change freeze
    // holding actions back, the rate guard refusing.
    metric(
      'Forced dry-runs, change freezes and rate-limited actions',
      'Sum',
      300,
      entries.flatMap(({ name }) => [
        ['OpsAutopilot', 'ForcedDryRun', 'service', 'ops-autopilot', 'function', name],
        ['.', 'ActionsChangeFreeze', '.', '.', '.', '.'],
        ['.', 'ActionsRateLimited', '.', '.', '.', '.'],
      ]),
    ),
    metric('Queues (dead letters, failures)', 'Maximum', 300, [
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `\${DlqName}`],
      ['...', `\${FailureQueueName}`],
    ]),
    metric(
      'EventBridge failed invocations',
      'Sum',
      300,
      [
        ...entries.flatMap(({ deployment }) => ruleSuffixes(deployment, target.root)),
        ...otherRuleSuffixes,
      ].map((suffix) => ['AWS/Events', 'FailedInvocations', 'RuleName', `ops-autopilot-\${Stage}-${suffix}`]),
    ),
  );
  vars.DlqName = { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'QueueName'] };
  vars.FailureQueueName = { 'Fn::GetAtt': ['FailureQueue', 'QueueName'] };
  // Two charts a row, then the alarms across the width.
  const placed: unknown[] = widgets.map((w, i) => ({
    ...w,
    x: (i % 2) * 12,
    y: Math.floor(i / 2) * 6,
    width: 12,
    height: 6,
  }));
  for (const id of alarmIds) vars[id] = { 'Fn::GetAtt': [id, 'Arn'] };
  placed.push({
    type: 'alarm',
    x: 0,
    y: Math.ceil(widgets.length / 2) * 6,
    width: 24,
    height: 3,
    properties: {
      title: 'Self-monitoring alarms (each pages the topic)',
      alarms: alarmIds.map((id) => `\${${id}}`),
    },
  });
  return { 'Fn::Sub': [JSON.stringify({ widgets: placed }), vars] };
}
