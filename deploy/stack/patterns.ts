import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Deployment, eventRuleOf, type RegistryEntry } from '#functions/index.ts';
import { functionRoleName, type StackTarget } from './names.ts';

export type EventPattern = Record<string, unknown>;

/** EventBridge's limit on one rule's pattern (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html). */
export const PATTERN_LIMIT = 2048;

/**
 * A function's patterns, unresolved: a pattern file holds one event pattern, or several (one rule each:
 * a rule's pattern holds 2,048 characters); a deployment may instead give its patterns as data
 * (onCloudTrail derives them from its detections). A scheduled function has one rule and no pattern; a
 * function invoked by hand has no rule.
 */
export function patternsOf(deployment: Deployment, root: string): (EventPattern | undefined)[] {
  const { trigger } = deployment;
  if ('manual' in trigger) return [];
  if ('patterns' in trigger) return [...trigger.patterns];
  if (!('patternFile' in trigger)) return [undefined];
  const json: unknown = JSON.parse(readFileSync(join(root, trigger.patternFile), 'utf8'));
  return Array.isArray(json) ? (json as EventPattern[]) : [json as EventPattern];
}

/**
 * The rule suffixes of a function: `<rule>` for its first pattern (or schedule), `<rule>-2`... for the
 * others; none for a function invoked by hand.
 */
export function ruleSuffixes(deployment: Deployment, root: string): string[] {
  const rule = eventRuleOf(deployment)?.trigger.rule;
  if (rule === undefined) return [];
  return patternsOf(deployment, root).map((_, i) => (i === 0 ? rule : `${rule}-${i + 1}`));
}

export const ruleName = (target: StackTarget, deployment: Deployment, index = 0): string =>
  `ops-autopilot-${target.stage}-${ruleSuffixes(deployment, target.root)[index]}`;

const isStackRoleNames = (v: unknown): boolean =>
  v !== null &&
  typeof v === 'object' &&
  Object.keys(v).length === 1 &&
  (v as Record<string, unknown>).stackRoleNames === true;

/**
 * A pattern file may exclude this stack's own roles by writing `{ "anything-but": { "stackRoleNames":
 * true } }`: the exact role names of this stage and region go in its place. A name prefix would also
 * exclude any role someone names `ops-autopilot-...`; EventBridge refuses the marker itself, so a file
 * used unresolved fails instead of excluding the wrong roles.
 */
export function withStackRoleNames(node: unknown, names: readonly string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => withStackRoleNames(n, names));
  if (node === null || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  if (isStackRoleNames(record['anything-but'])) return { ...record, 'anything-but': [...names] };
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, withStackRoleNames(v, names)]));
}

/**
 * The roles the stack gives its functions on this stage and region (roles.ts), and on an organization's
 * stage the role they act as in member accounts.
 */
export const stackRoleNames = (target: StackTarget, registry: readonly RegistryEntry[]): string[] => [
  ...registry.map(({ deployment }) => functionRoleName(target.stage, deployment, target.region)),
  ...(target.memberRoleName ? [target.memberRoleName] : []),
];

/** A function's patterns as its rules hold them, each within EventBridge's limit. */
export function resolvedPatternsOf(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  deployment: Deployment,
): (EventPattern | undefined)[] {
  return patternsOf(deployment, target.root).map((pattern, i) => {
    if (pattern === undefined) return undefined;
    const resolved = withStackRoleNames(pattern, stackRoleNames(target, registry)) as EventPattern;
    const size = JSON.stringify(resolved).length;
    if (size > PATTERN_LIMIT) {
      throw new Error(
        `ops-autopilot: rule ${ruleName(target, deployment, i)}'s pattern is ${size} characters with this stack's role names; EventBridge takes ${PATTERN_LIMIT}`,
      );
    }
    return resolved;
  });
}
