import type { Severity } from '#shared/domain/severity.ts';
import { detection, type Found } from '../detections/declaration.ts';
import type { CloudTrailEvent } from '../schema.ts';
import type { CloudTrailSettings, DetectionAction } from '../settings.ts';
import { ruleMatches } from './evaluate.ts';
import type { CompiledRule, SigmaLevel } from './rule.ts';
import compiled from './rules.generated.json' with { type: 'json' };

/**
 * The Sigma rules of `detections/`, compiled at package time (load.ts) into rules.generated.json, as one
 * detection of the catalogue: `sigma-rule`. Its calls are the rules' calls; a record it matches is
 * decided by the first matching rule a stage has not turned off, with that rule's level as its action
 * and severity (cloudTrail.sigma overrides the action per rule id).
 */

// The JSON's inferred type widens the level to string; load.ts wrote only compiled rules into it.
export const SIGMA_RULES = compiled as unknown as readonly CompiledRule[];

/** Sigma's levels as this project's actions: critical and high page, medium and low record. */
export const LEVEL_ACTION: Record<SigmaLevel, DetectionAction> = {
  critical: 'page',
  high: 'page',
  medium: 'record',
  low: 'record',
  informational: 'off',
};
export const LEVEL_SEVERITY: Record<SigmaLevel, Severity> = {
  critical: 'critical',
  high: 'high',
  medium: 'warning',
  low: 'info',
  informational: 'info',
};

const MAX_TITLE = 200;

/** What a matching rule shows on the page: its title, id, level, ATT&CK tags and references. */
export function sigmaFound(rule: CompiledRule): Found {
  const attack = rule.tags.filter((t) => t.startsWith('attack.'));
  return {
    what: `Sigma rule: ${rule.title.slice(0, MAX_TITLE)}`,
    evidence: {
      sigmaRule: rule.id,
      sigmaTitle: rule.title.slice(0, MAX_TITLE),
      sigmaLevel: rule.level,
      sigmaFile: rule.file,
      attackTags: attack.length > 0 ? attack.join(', ') : undefined,
      references: rule.references.length > 0 ? rule.references.join(' ') : undefined,
    },
  };
}

/** Every rule the record matches, in file order (the record is the CloudTrail record, `detail`). */
export const matchingSigmaRules = (e: CloudTrailEvent, rules = SIGMA_RULES): CompiledRule[] =>
  rules.filter((rule) => rule.calls.includes(e.detail.eventName) && ruleMatches(rule, e.detail));

/** The `sigma-rule` detection over a set of compiled rules: their calls are what the rules deliver. */
export const sigmaDetection = (rules: readonly CompiledRule[]) =>
  detection({
    name: 'sigma-rule',
    severity: 'high',
    action: 'page',
    describes:
      'A Sigma rule in detections/ matched: its level sets action and severity; cloudTrail.sigma overrides the action per rule id',
    watches: { calls: [...new Set(rules.flatMap((r) => r.calls))].sort() },
    match: (e) => {
      const [first] = matchingSigmaRules(e, rules);
      return first ? sigmaFound(first) : undefined;
    },
  });

/** The rules of detections/, compiled at package time. */
export const sigmaRule = sigmaDetection(SIGMA_RULES);

/** The rule that decides a record on a stage: the first matching one whose action is not `off`. */
export function sigmaDecision(
  e: CloudTrailEvent,
  settings: Pick<CloudTrailSettings, 'sigma' | 'detections'>,
  rules = SIGMA_RULES,
): { rule: CompiledRule; found: Found; action: DetectionAction; severity: Severity } | undefined {
  const stage = settings.detections['sigma-rule'];
  if (stage?.action === 'off') return undefined;
  for (const rule of matchingSigmaRules(e, rules)) {
    const action = settings.sigma[rule.id] ?? LEVEL_ACTION[rule.level];
    if (action === 'off') continue;
    return { rule, found: sigmaFound(rule), action, severity: stage?.severity ?? LEVEL_SEVERITY[rule.level] };
  }
  return undefined;
}
