import { eventRuleOf, type RegistryEntry } from '#functions/index.ts';
import { readOnlyRulePattern } from '#functions/onCloudTrail/detections.ts';
import { ruleFailedInvocationsAlarm } from './alarms.ts';
import type { Resources, StackTarget } from './names.ts';
import { PATTERN_LIMIT, stackRoleNames, withStackRoleNames } from './patterns.ts';
import type { StageConfig } from './roles.ts';

/** The function the read-only rule delivers to. */
export const READ_ONLY_FUNCTION = 'onCloudTrail';
/** Its rule's suffix: `ops-autopilot-<stage>-on-cloudtrail-read-only`. */
export const READ_ONLY_RULE_SUFFIX = 'on-cloudtrail-read-only';
/**
 * The only state in which EventBridge delivers read-only management events to a rule
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html).
 */
export const READ_ONLY_RULE_STATE = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

/**
 * The read-only rule's pattern on this stage, with the stack's role names, or undefined on a stage that
 * leaves `cloudTrail.readOnlyRule` off. An organization's members forward by this very pattern.
 */
export function readOnlyRulePatternOf(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  stageConfig: StageConfig,
): unknown {
  const settings = stageConfig.cloudTrail.readOnlyRule;
  if (!settings.enabled) return undefined;
  const EventPattern = withStackRoleNames(
    readOnlyRulePattern(settings.scannerUserAgents),
    stackRoleNames(target, registry),
  );
  const size = JSON.stringify(EventPattern).length;
  if (size > PATTERN_LIMIT) {
    throw new Error(
      `ops-autopilot: rule ops-autopilot-${target.stage}-${READ_ONLY_RULE_SUFFIX}'s pattern is ${size} characters; EventBridge takes ${PATTERN_LIMIT}`,
    );
  }
  return EventPattern;
}

/**
 * The read-only rule on one bus (the default bus, or an organization's), its invoke permission and its
 * failed-invocations alarm, under logical ids starting `idPrefix` and the rule suffix `suffix`.
 */
export function readOnlyRuleOn(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  EventPattern: unknown,
  lambdaId: string,
  on: { idPrefix: string; suffix: string; bus: unknown; targetId: string; from: string },
): Resources {
  const entry = registry.find(({ name }) => name === READ_ONLY_FUNCTION);
  if (!entry) throw new Error(`ops-autopilot: ${READ_ONLY_FUNCTION} is not in the registry`);
  const ruleId = `${on.idPrefix}Rule`;
  const rule = eventRuleOf(entry.deployment);
  if (!rule) throw new Error(`ops-autopilot: ${READ_ONLY_FUNCTION} has no event rule`);
  const { maximumEventAge, maximumRetryAttempts } = rule.retryPolicy;
  const [alarmId, alarm] = ruleFailedInvocationsAlarm(
    target.stage,
    on.suffix,
    entry.deployment.monitoring.period,
    `EventBridge gave up delivering read-only CloudTrail events${on.from} to onCloudTrail (see the events DLQ)`,
  );
  return {
    [ruleId]: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: `ops-autopilot-${target.stage}-${on.suffix}`,
        Description: `Read-only CloudTrail calls that matter (secret scanners, GetPasswordData, secret reads)${on.from} to onCloudTrail`,
        EventBusName: on.bus,
        State: READ_ONLY_RULE_STATE,
        EventPattern,
        Targets: [
          {
            Id: on.targetId,
            Arn: { 'Fn::GetAtt': [lambdaId, 'Arn'] },
            RetryPolicy: {
              MaximumEventAgeInSeconds: maximumEventAge,
              MaximumRetryAttempts: maximumRetryAttempts,
            },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } },
          },
        ],
      },
    },
    [`${ruleId}InvokePermission`]: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': [lambdaId, 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
      },
    },
    [alarmId]: alarm,
  };
}

/**
 * On a stage that turns `cloudTrail.readOnlyRule` on: a second rule on onCloudTrail, narrow to the
 * read-only calls its detections read, in the state that receives them; its invoke permission, and an
 * alarm on its failed invocations. Nothing on any other stage.
 */
export function readOnlyRule(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  stageConfig: StageConfig,
  lambdaId: string,
): Resources {
  const pattern = readOnlyRulePatternOf(target, registry, stageConfig);
  if (pattern === undefined) return {};
  return readOnlyRuleOn(target, registry, pattern, lambdaId, {
    idPrefix: 'OnCloudTrailReadOnly',
    suffix: READ_ONLY_RULE_SUFFIX,
    bus: 'default',
    targetId: 'on-cloudtrail',
    from: '',
  });
}
