import { eventRuleOf, type RegistryEntry } from '#functions/index.ts';
import { deployedName, roleId, type StackTarget } from './names.ts';
import { resolvedPatternsOf, ruleName } from './patterns.ts';

/**
 * The serverless.yml entry of one function; the name is set so a plugin-made entry deploys as any other.
 * `schedule` is the value of the stage param its trigger names, when it runs on a schedule.
 */
export function functionEntry(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  { name, deployment }: RegistryEntry,
  schedule?: string,
): Record<string, unknown> {
  const { trigger } = deployment;
  if ('scheduleParam' in trigger && schedule === undefined) {
    throw new Error(`ops-autopilot: ${name} runs on param:${trigger.scheduleParam}, which has no value`);
  }
  // A function invoked by hand (a manual trigger) has no rule: no event source at all.
  const rule = eventRuleOf(deployment);
  const sources =
    rule === undefined
      ? []
      : 'scheduleParam' in trigger
        ? [{ schedule }]
        : resolvedPatternsOf(target, registry, deployment).map((pattern) => ({ pattern }));
  return {
    name: deployedName(target.stage, name),
    handler: `functions/${name}/handler.handler`,
    // The build folder holds every function's code-split chunks: each zip takes only its own.
    package: {
      patterns: registry
        .map((other) => other.name)
        .filter((other) => other !== name)
        .map((other) => `!functions/${other}/**`),
    },
    description: deployment.description,
    role: roleId(name),
    ...(deployment.timeout ? { timeout: deployment.timeout } : {}),
    ...(deployment.memorySize ? { memorySize: deployment.memorySize } : {}),
    ...(deployment.environment ? { environment: { ...deployment.environment } } : {}),
    // Sized per function in its deployment.ts: a storm of one source throttles only that function.
    reservedConcurrency: deployment.reservedConcurrency,
    maximumRetryAttempts: deployment.maximumRetryAttempts,
    maximumEventAge: deployment.maximumEventAge,
    destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] } } },
    events: sources.map((source, i) => ({
      eventBridge: {
        name: ruleName(target, deployment, i),
        ...source,
        retryPolicy: { ...rule?.retryPolicy },
        deadLetterQueueArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] },
      },
    })),
  };
}
