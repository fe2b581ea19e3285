import type { RegistryEntry } from '#functions/index.ts';
import { type CfnResource, deployedName, pascal, type Resources, type StackTarget } from './names.ts';
import { ruleSuffixes } from './patterns.ts';

const pageOnChange = { AlarmActions: [{ Ref: 'PageTopic' }], OKActions: [{ Ref: 'PageTopic' }] };
const PERIOD_WORDS: Record<number, string> = { 300: 'five-minute', 3600: 'hourly' };
const periodWord = (period: number): string => PERIOD_WORDS[period] ?? `${period}-second`;
const repeated = (
  { evaluationPeriods, datapointsToAlarm }: { evaluationPeriods: number; datapointsToAlarm: number },
  period: number,
): string =>
  datapointsToAlarm === evaluationPeriods
    ? `${datapointsToAlarm} ${periodWord(period)} periods running`
    : `${datapointsToAlarm} of the last ${evaluationPeriods} ${periodWord(period)} periods`;

const alarm = (Properties: Record<string, unknown>): CfnResource => ({
  Type: 'AWS::CloudWatch::Alarm',
  Properties,
});

/**
 * A function's alarms on itself. Throttles and a rule's failed invocation page at once (something is
 * stuck or lost); errors only when they repeat, since a single one (a refused duplicate, a mistyped
 * manual invoke) is harmless and an event that keeps failing reaches the failure queue, which pages.
 */
export function selfAlarms(
  target: StackTarget,
  { name, deployment }: RegistryEntry,
  lambdaId: string,
): Resources {
  const { stage } = target;
  const { period, errors } = deployment.monitoring;
  const common = {
    Statistic: 'Sum',
    Period: period,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    ...pageOnChange,
  };
  const lambda = {
    Namespace: 'AWS/Lambda',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaId } }],
  };
  return {
    [`${pascal(name)}ErrorsAlarm`]: alarm({
      AlarmName: `${deployedName(stage, name)}-errors`,
      AlarmDescription: `${name} failed in ${repeated(errors, period)} (a single error does not page)`,
      ...lambda,
      MetricName: 'Errors',
      ...common,
      EvaluationPeriods: errors.evaluationPeriods,
      DatapointsToAlarm: errors.datapointsToAlarm,
    }),
    [`${pascal(name)}ThrottlesAlarm`]: alarm({
      AlarmName: `${deployedName(stage, name)}-throttles`,
      AlarmDescription: `${name} was throttled (its invocations wait, retry, or end in the failure queue)`,
      ...lambda,
      MetricName: 'Throttles',
      ...common,
      EvaluationPeriods: 1,
    }),
    ...Object.fromEntries(
      ruleSuffixes(deployment, target.root).map((suffix) =>
        ruleFailedInvocationsAlarm(
          stage,
          suffix,
          period,
          `EventBridge gave up invoking ${name} from its rule (see the events DLQ)`,
        ),
      ),
    ),
  };
}

/** A rule's FailedInvocations alarm, as [logical id, resource]: it pages at once, and when it clears. */
export function ruleFailedInvocationsAlarm(
  stage: string,
  suffix: string,
  period: number,
  description: string,
  condition?: string,
): [string, CfnResource] {
  const rule = `ops-autopilot-${stage}-${suffix}`;
  return [
    `${pascal(suffix)}RuleFailedInvocationsAlarm`,
    {
      Type: 'AWS::CloudWatch::Alarm',
      ...(condition ? { Condition: condition } : {}),
      Properties: {
        AlarmName: `${rule}-rule-failed-invocations`,
        AlarmDescription: description,
        Namespace: 'AWS/Events',
        MetricName: 'FailedInvocations',
        Dimensions: [{ Name: 'RuleName', Value: rule }],
        Statistic: 'Sum',
        Period: period,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        ...pageOnChange,
        EvaluationPeriods: 1,
      },
    },
  ];
}
