import type { ResourceRef } from '#shared/domain/signal.ts';
import { accessPaged, accessRecorded } from './detections/access.ts';
import { changesRecorded } from './detections/changes.ts';
import { databasesPaged } from './detections/databases.ts';
import {
  type DetectionContext,
  type Found,
  type PagesOnlyIf,
  type RemediationTarget,
  TRUSTS_NO_ONE,
} from './detections/declaration.ts';
import { deletionsRecorded } from './detections/deletions.ts';
import { evidencePaged } from './detections/evidence.ts';
import { exfiltrationPaged, exfiltrationRecorded } from './detections/exfiltration.ts';
import { identityPaged, identityRecorded, unauthorizedApiCall } from './detections/identity.ts';
import { loggingPaged } from './detections/logging.ts';
import { networkPaged } from './detections/network.ts';
import { eventPatterns, readOnlyCalls, readOnlyPattern, watchedCalls } from './detections/pattern.ts';
import { readOnlyPaged } from './detections/readOnly.ts';
import { resourcePoliciesPaged } from './detections/resourcePolicies.ts';
import { reviewRecorded } from './detections/review.ts';
import { sharingPaged } from './detections/sharing.ts';
import { signInPaged, signInRecorded } from './detections/signIn.ts';
import { storagePaged } from './detections/storage.ts';
import { toolingPaged } from './detections/tooling.ts';
import { trustPaged } from './detections/trust.ts';
import type { CloudTrailEvent } from './schema.ts';
import { sigmaRule } from './sigma/detection.ts';

export type { RemediationTarget } from './detections/declaration.ts';
export { UNAUTHORIZED_ERROR } from './detections/identity.ts';

/**
 * Every CloudTrail detection, in the order they are tried: the first that matches an event decides
 * (one a stage turns `off` lets the next try). Each is declared once in detections/<domain>.ts and
 * joins its file's paged or recorded list; this file only concatenates the lists. Every paged list
 * comes before every recorded one, so a specific page decides before a broad record would (a world-open
 * ingress rule is `security-group-open-to-world`, a `/32` one falls through to `security-group-change`;
 * a root call is not decided by `root-activity`). The catalogue and the settings' names (settings.ts),
 * the event patterns (deployment.ts), the remediation executors (spec.ts) and their IAM statements
 * (deployment.ts) are derived from this list; test/unit/onCloudTrail.catalogue.test.ts proves every
 * declared detection reaches it.
 */
export const DETECTIONS = [
  ...networkPaged,
  ...storagePaged,
  ...loggingPaged,
  ...identityPaged,
  ...signInPaged,
  ...trustPaged,
  ...sharingPaged,
  ...databasesPaged,
  ...resourcePoliciesPaged,
  ...evidencePaged,
  ...toolingPaged,
  ...exfiltrationPaged,
  ...accessPaged,
  ...readOnlyPaged,
  // The Sigma rules of detections/: after the built-in pages (a specific built-in decides first),
  // before the built-in records (a Sigma rule that pages is not silenced by them).
  sigmaRule,
  ...identityRecorded,
  ...signInRecorded,
  ...changesRecorded,
  ...reviewRecorded,
  ...deletionsRecorded,
  ...exfiltrationRecorded,
  ...accessRecorded,
] as const;

export type DetectionName = (typeof DETECTIONS)[number]['name'];

export interface Finding {
  detection: DetectionName;
  /** One line: what was done, to what. */
  what: string;
  resource?: ResourceRef;
  /** The dangerous part of the request (CIDR and ports, the public statement, the policy ARN). */
  evidence: Record<string, string>;
  remediation?: RemediationTarget;
  pagesOnlyIf?: PagesOnlyIf;
}

/** Every API call a detection reads when it succeeds: the event patterns list the same names. */
export const WATCHED_CALLS = watchedCalls(DETECTIONS);

/** The EventBridge patterns of onCloudTrail's rules, one rule each. */
export const EVENT_PATTERNS = eventPatterns(DETECTIONS);

/** The read-only calls the read-only rule delivers (`cloudTrail.readOnlyRule`), never the main rules. */
export const READ_ONLY_CALLS = readOnlyCalls(DETECTIONS);

/** The read-only rule's pattern, for the stage's scanner user agents. */
export const readOnlyRulePattern = (scannerUserAgents: readonly string[]) =>
  readOnlyPattern(DETECTIONS, scannerUserAgents);

const BY_NAME = new Map<DetectionName, (e: CloudTrailEvent, context: DetectionContext) => Found | undefined>(
  DETECTIONS.map((d) => [d.name, d.match]),
);

const finding = (detection: DetectionName, found: Found): Finding => {
  const evidence = Object.fromEntries(
    Object.entries(found.evidence).filter((kv): kv is [string, string] => kv[1] !== undefined),
  );
  return { detection, ...found, evidence };
};

/**
 * Every detection the record matches, in catalogue order. A failed call matches nothing but the
 * unauthorized-call detection, and that only for refusals: a call that did not happen changed nothing.
 */
export function detect(
  e: CloudTrailEvent,
  order: readonly DetectionName[],
  context: DetectionContext = TRUSTS_NO_ONE,
): Finding[] {
  if (e.detail.errorCode !== undefined) {
    const refused = unauthorizedApiCall.match(e, context);
    return refused ? [finding(unauthorizedApiCall.name, refused)] : [];
  }
  return order.flatMap((name) => {
    const found = BY_NAME.get(name)?.(e, context);
    return found ? [finding(name, found)] : [];
  });
}
