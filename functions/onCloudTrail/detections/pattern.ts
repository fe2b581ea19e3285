import type { EventPattern } from '#functions/index.ts';
import type { Detection } from './declaration.ts';

/**
 * The EventBridge patterns that deliver what the detections watch, derived from their declarations:
 * every API call they name (succeeded), and each distinct `detail` branch they declare. The plugin puts
 * this stack's role names in place of the `stackRoleNames` marker, so no remediation triggers itself.
 */

/** Characters of call names one rule lists: with the rest of a pattern and this stack's role names it
 * stays under EventBridge's 2,048 characters per pattern (the plugin and the package test hold it):
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html */
const NAME_CHARACTERS_PER_RULE = 1_100;

const CLOUDTRAIL_EVENTS: EventPattern = {
  source: [{ prefix: 'aws.' }],
  'detail-type': ['AWS API Call via CloudTrail', 'AWS Console Sign In via CloudTrail'],
};
/** Calls by this stack's own roles never reach it (a role without a session issuer is someone's user or root). */
const NOT_OWN_ROLES: EventPattern = {
  userIdentity: {
    sessionContext: {
      sessionIssuer: { userName: [{ 'anything-but': { stackRoleNames: true } }, { exists: false }] },
    },
  },
};
/** A failed call changed nothing: only the refused-call branch asks for errors. */
const SUCCEEDED: EventPattern = { errorCode: [{ exists: false }] };

/** Every API call a detection reads when it succeeds, sorted: the patterns list these names. */
export function watchedCalls(detections: readonly Detection[]): string[] {
  return [
    ...new Set(
      detections.flatMap((d) => ('calls' in d.watches && !d.watches.readOnly ? [...d.watches.calls] : [])),
    ),
  ].sort();
}

/** Read-only calls a detection reads: only the read-only rule delivers them. */
export function readOnlyCalls(detections: readonly Detection[]): string[] {
  return [
    ...new Set(
      detections.flatMap((d) => ('calls' in d.watches && d.watches.readOnly ? [...d.watches.calls] : [])),
    ),
  ].sort();
}

/**
 * The read-only rule's one pattern, narrow: GetCallerIdentity only from the scanners' user agents (a
 * wildcard each), and the other read-only calls the detections read, by name; succeeded calls only,
 * none by this stack's roles. Every other read-only call (DescribeKey, GetRole, ...) never matches.
 */
export function readOnlyPattern(
  detections: readonly Detection[],
  scannerUserAgents: readonly string[],
): EventPattern {
  const calls = readOnlyCalls(detections).filter((c) => c !== 'GetCallerIdentity');
  return {
    source: [{ prefix: 'aws.' }],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail: {
      ...NOT_OWN_ROLES,
      ...SUCCEEDED,
      $or: [
        {
          eventName: ['GetCallerIdentity'],
          userAgent: scannerUserAgents.map((agent) => ({ wildcard: `*${agent}*` })),
        },
        { eventName: calls },
      ],
    },
  };
}

/**
 * The names split evenly over as many rules as their length needs; the first rule also holds the
 * detections' own branches, in declaration order, each once.
 */
export function eventPatterns(detections: readonly Detection[]): EventPattern[] {
  const calls = watchedCalls(detections);
  const branches = [
    ...new Map(
      detections
        .flatMap((d) => ('detail' in d.watches ? [d.watches.detail] : []))
        .map((b) => [JSON.stringify(b), b]),
    ).values(),
  ];
  const characters = calls.reduce((sum, name) => sum + name.length + 3, 0);
  const rules = Math.max(1, Math.ceil(characters / NAME_CHARACTERS_PER_RULE));
  const perRule = Math.ceil(calls.length / rules);
  return Array.from({ length: rules }, (_, i) => {
    const named = { eventName: calls.slice(i * perRule, (i + 1) * perRule), ...SUCCEEDED };
    const detail =
      i === 0 && branches.length > 0
        ? { ...NOT_OWN_ROLES, $or: [named, ...branches] }
        : { ...NOT_OWN_ROLES, ...named };
    return { ...CLOUDTRAIL_EVENTS, detail };
  });
}
