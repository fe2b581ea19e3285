import type { RegistryEntry } from '#functions/index.ts';
import { GLOBAL_SOURCES } from '#functions/onCloudTrail/signal.ts';
import { ruleFailedInvocationsAlarm } from './alarms.ts';
import type { Resources, StackTarget } from './names.ts';
import { PATTERN_LIMIT, resolvedPatternsOf } from './patterns.ts';

/** Where the stack forwards global events: a us-east-1 stack given the stage param globalEventsHomeRegion. */
export const FORWARD_CONDITION = 'ForwardGlobalEvents';
/** The function whose rules a us-east-1 stack forwards to the home region. */
export const FORWARDED_FUNCTION = 'onCloudTrail';

/**
 * IAM, STS, console sign-in and Organizations events reach EventBridge in us-east-1 only: a us-east-1
 * stack given the stage param globalEventsHomeRegion forwards the ones onCloudTrail's rules take to the
 * home region's default bus (its rules take them there), one rule per pattern, each watched like a
 * function's rule (its failed invocations page). Only where the condition ForwardGlobalEvents holds.
 */
export function globalEventsForwarding(
  target: StackTarget,
  registry: readonly RegistryEntry[],
): { resources: Resources; suffixes: string[] } {
  const entry = registry.find(({ name }) => name === FORWARDED_FUNCTION);
  if (!entry) throw new Error(`ops-autopilot: ${FORWARDED_FUNCTION} is not in the registry`);
  const homeBus = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
    'Fn::Sub': 'arn:${AWS::Partition}:events:${GlobalEventsHomeRegion}:${AWS::AccountId}:event-bus/default',
  };
  const resources: Resources = {};
  const suffixes: string[] = [];
  resolvedPatternsOf(target, registry, entry.deployment).forEach((pattern, i) => {
    const suffix = i === 0 ? 'global-events-forward' : `global-events-forward-${i + 1}`;
    const name = `ops-autopilot-${target.stage}-${suffix}`;
    const EventPattern = {
      source: [...GLOBAL_SOURCES],
      'detail-type': pattern?.['detail-type'],
      detail: pattern?.detail,
    };
    const size = JSON.stringify(EventPattern).length;
    if (size > PATTERN_LIMIT) {
      throw new Error(
        `ops-autopilot: rule ${name}'s pattern is ${size} characters; EventBridge takes ${PATTERN_LIMIT}`,
      );
    }
    suffixes.push(suffix);
    resources[`GlobalEventsForwardRule${i === 0 ? '' : i + 1}`] = {
      Type: 'AWS::Events::Rule',
      Condition: FORWARD_CONDITION,
      Properties: {
        Name: name,
        Description: "IAM, STS, sign-in and Organizations events to the home region's onCloudTrail",
        EventBusName: 'default',
        EventPattern,
        Targets: [
          {
            Id: 'home-region-default-bus',
            Arn: homeBus,
            RoleArn: { 'Fn::GetAtt': ['GlobalEventsForwardRole', 'Arn'] },
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } },
          },
        ],
      },
    };
    const [alarmId, alarm] = ruleFailedInvocationsAlarm(
      target.stage,
      suffix,
      entry.deployment.monitoring.period,
      "EventBridge gave up forwarding global events to the home region's bus (see the events DLQ)",
      FORWARD_CONDITION,
    );
    resources[alarmId] = alarm;
  });
  return { resources, suffixes };
}
