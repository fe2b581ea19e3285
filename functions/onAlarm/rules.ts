import { matchesFormat } from '#shared/domain/formats.ts';
import type { AlarmRule, ParameterSource, Runbook } from './settings.ts';
import type { AlarmFacts } from './signal.ts';

/**
 * Which rule an alarm matches, the runbook parameters it resolves to and the instance they name: read
 * by gather (to know which target's tags to read) and by plan (to decide), so neither imports the other.
 */

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function ruleMatches(rule: AlarmRule, facts: AlarmFacts, tags: Record<string, string>): boolean {
  const m = rule.match;
  if (m.alarmName !== undefined && !globToRegExp(m.alarmName).test(facts.alarmName)) return false;
  if (m.namespace !== undefined && m.namespace !== facts.namespace) return false;
  if (m.metricName !== undefined && m.metricName !== facts.metricName) return false;
  if (m.tag !== undefined && tags[m.tag.key] !== m.tag.value) return false;
  return true;
}

/** The first rule that matches, in configuration order: predictable for the person who wrote them. */
export function findRule(
  rules: AlarmRule[],
  facts: AlarmFacts,
  tags: Record<string, string>,
): AlarmRule | undefined {
  return rules.find((r) => ruleMatches(r, facts, tags));
}

type ResolvedParameters = { ok: true; parameters: Record<string, string[]> } | { ok: false; problem: string };

/** Takes each parameter from the alarm's dimensions or tags, and refuses any value not in its AWS format. */
export function resolveParameters(
  sources: Record<string, ParameterSource>,
  facts: AlarmFacts,
  tags: Record<string, string>,
): ResolvedParameters {
  const parameters: Record<string, string[]> = {};
  for (const [name, source] of Object.entries(sources)) {
    if ('value' in source) {
      parameters[name] = [source.value];
      continue;
    }
    const [origin, key] =
      'fromDimension' in source
        ? (['dimension', source.fromDimension] as const)
        : (['tag', source.fromTag] as const);
    const value = origin === 'dimension' ? facts.dimensions[key] : tags[key];
    if (value === undefined)
      return { ok: false, problem: `parameter ${name}: the alarm has no ${origin} ${key}` };
    if (!matchesFormat(source.format, value)) {
      return {
        ok: false,
        problem: `parameter ${name}: ${origin} ${key} = ${JSON.stringify(value)} is not a ${source.format}`,
      };
    }
    parameters[name] = [value];
  }
  return { ok: true, parameters };
}

/** The instance a runbook acts on, as far as its rule and parameters say. */
export type RunbookTargetRef =
  | { kind: 'instance'; parameter: string; instanceId: string }
  /** The rule's scope is 'none': the operator accepted any target. */
  | { kind: 'unscoped' }
  | { kind: 'not-an-instance'; problem: string };

/** The target parameter: the rule's `target`, else the one whose format is ec2-instance-id. */
export function runbookTarget(runbook: Runbook, parameters: Record<string, string[]>): RunbookTargetRef {
  if (runbook.scope === 'none') return { kind: 'unscoped' };
  const name =
    runbook.target?.parameter ??
    Object.entries(runbook.parameters).find(([, s]) => 'format' in s && s.format === 'ec2-instance-id')?.[0];
  if (name === undefined) {
    return {
      kind: 'not-an-instance',
      problem:
        "its target is not an EC2 instance, so its scope cannot be checked (a rule may say scope: 'none')",
    };
  }
  const values = parameters[name] ?? [];
  const [instanceId] = values;
  if (values.length !== 1 || instanceId === undefined || !matchesFormat('ec2-instance-id', instanceId)) {
    return {
      kind: 'not-an-instance',
      problem: `its target parameter ${name} = ${JSON.stringify(values.join(','))} is not one EC2 instance id`,
    };
  }
  return { kind: 'instance', parameter: name, instanceId };
}
