import type { RegistryEntry } from '#functions/index.ts';
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
  const settings = stageConfig.cloudTrail.readOnlyRule;
  if (!settings.enabled) return {};
  const entry = registry.find(({ name }) => name === READ_ONLY_FUNCTION);
  if (!entry) throw new Error(`ops-autopilot: ${READ_ONLY_FUNCTION} is not in the registry`);
  const name = `ops-autopilot-${target.stage}-${READ_ONLY_RULE_SUFFIX}`;
  const EventPattern = withStackRoleNames(
    readOnlyRulePattern(settings.scannerUserAgents),
    stackRoleNames(target, registry),
  );
  const size = JSON.stringify(EventPattern).length;
  if (size > PATTERN_LIMIT) {
    throw new Error(
      `ops-autopilot: rule ${name}'s pattern is ${size} characters; EventBridge takes ${PATTERN_LIMIT}`,
    );
  }
  const { maximumEventAge, maximumRetryAttempts } = entry.deployment.ruleRetryPolicy;
  const [alarmId, alarm] = ruleFailedInvocationsAlarm(
    target.stage,
    READ_ONLY_RULE_SUFFIX,
    entry.deployment.monitoring.period,
    'EventBridge gave up delivering read-only CloudTrail events to onCloudTrail (see the events DLQ)',
  );
  return {
    OnCloudTrailReadOnlyRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: name,
        Description:
          'Read-only CloudTrail calls that matter (secret scanners, GetPasswordData, secret reads) to onCloudTrail',
        EventBusName: 'default',
        State: READ_ONLY_RULE_STATE,
        EventPattern,
        Targets: [
          {
            Id: 'on-cloudtrail',
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
    OnCloudTrailReadOnlyRuleInvokePermission: {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: { 'Fn::GetAtt': [lambdaId, 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': ['OnCloudTrailReadOnlyRule', 'Arn'] },
      },
    },
    [alarmId]: alarm,
  };
}
