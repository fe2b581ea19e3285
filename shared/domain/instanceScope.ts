import { findManagedBy } from './managedBy.ts';

/**
 * Whether an instance is one a runbook may act on: it carries the opt-in tag and (unless the rule says
 * otherwise) no other service manages it. Pure; onAlarm's plan and approveAction's re-check both ask it.
 */
export interface InstanceScope {
  instanceId: string;
  tag: { key: string; value: string };
  ignoreManagedBy: boolean;
}

/** The instance a runbook would act on: its tags, or why they could not be read. */
export type TargetFacts = { instanceId: string } & (
  | { tags: Record<string, string> }
  | { unavailable: string }
);

/** Why the instance is out of scope, or undefined when it is in scope. */
export function instanceScopeProblem(
  scope: InstanceScope,
  target: TargetFacts | undefined,
): string | undefined {
  const id = scope.instanceId;
  // Refuse rather than guess: an unread target may be anything.
  if (target === undefined || target.instanceId !== id) return `target ${id} was not read`;
  if ('unavailable' in target) return `target ${id} could not be read (${target.unavailable})`;
  if (!scope.ignoreManagedBy) {
    const managed = findManagedBy(target.tags);
    if (managed) {
      return (
        `instance ${id} is managed by ${managed.rule.owner} (tag ${managed.tagKey}=${managed.tagValue}), ` +
        'which owns its lifecycle'
      );
    }
  }
  const { key, value } = scope.tag;
  const actual = target.tags[key];
  if (actual !== value) {
    const has = actual === undefined ? 'has no such tag' : `has ${key}=${actual}`;
    return `instance ${id} is not tagged ${key}=${value} (it ${has}); runbooks act only on instances that opt in`;
  }
  return undefined;
}
