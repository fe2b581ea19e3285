import type { ResourceRef } from '#shared/domain/signal.ts';
import { accessPaged, accessRecorded } from './detections/access.ts';
import { changes } from './detections/changes.ts';
import { databasePublic, dbSecurityGroupOpenToWorld } from './detections/databases.ts';
import {
  type DetectionContext,
  type Found,
  type RemediationTarget,
  TRUSTS_NO_ONE,
} from './detections/declaration.ts';
import { deletions } from './detections/deletions.ts';
import { backupsDestroyed, logsDeleted, recoveryProtectionOff } from './detections/evidence.ts';
import { exfiltrationPaged, exfiltrationRecorded } from './detections/exfiltration.ts';
import {
  adminPolicyAttached,
  rootAccessKeyCreated,
  rootActivity,
  unauthorizedApiCall,
} from './detections/identity.ts';
import {
  cloudTrailLogExpiry,
  cloudTrailTampering,
  configRecorderStopped,
  guardDutyDisabled,
  vpcFlowLogsDeleted,
} from './detections/logging.ts';
import { securityGroupOpenToWorld } from './detections/network.ts';
import { eventPatterns, readOnlyCalls, readOnlyPattern, watchedCalls } from './detections/pattern.ts';
import { readOnlyDetections } from './detections/readOnly.ts';
import { codeBuildProjectPublic, resourcePolicyPublic } from './detections/resourcePolicies.ts';
import { reviewRecords } from './detections/review.ts';
import { dataSharedOut, dataSharedPublicly, rdsExportedToS3 } from './detections/sharing.ts';
import { consoleSignInFailure, consoleSignInWithoutMfa, rootConsoleSignIn } from './detections/signIn.ts';
import { kmsKeyDisabled, s3BucketPublic } from './detections/storage.ts';
import { guardDutyFindingsSuppressed, securityToolingDisabled } from './detections/tooling.ts';
import { trust } from './detections/trust.ts';
import type { CloudTrailEvent } from './schema.ts';
import { sigmaRule } from './sigma/detection.ts';

export type { RemediationTarget } from './detections/declaration.ts';
export { UNAUTHORIZED_ERROR } from './detections/identity.ts';

/**
 * Every CloudTrail detection, in the order they are tried: the first that matches an event decides
 * (one a stage turns `off` lets the next try). The specific, default-page ones come first, so a
 * world-open ingress rule is `security-group-open-to-world`, and a `/32` one falls through to
 * `security-group-change`. Each is declared once in detections/<domain>.ts; the catalogue and the
 * settings' names (settings.ts), the event patterns (deployment.ts), the remediation executors
 * (spec.ts) and their IAM statements (deployment.ts) are derived from this list.
 */
export const DETECTIONS = [
  securityGroupOpenToWorld,
  s3BucketPublic,
  cloudTrailTampering,
  // Before s3-bucket-policy-change, which records every lifecycle change.
  cloudTrailLogExpiry,
  adminPolicyAttached,
  rootAccessKeyCreated,
  rootConsoleSignIn,
  consoleSignInWithoutMfa,
  guardDutyDisabled,
  vpcFlowLogsDeleted,
  configRecorderStopped,
  kmsKeyDisabled,
  // Issue 18 trust (compromised key, trust backdoors): paged, so listed before the records (a CIS
  // change record such as iam-policy-change would otherwise decide AttachUserPolicy).
  ...trust,
  // exposure (issue 18): data shared out or made public, databases reachable from the internet (paged
  // ones stay before the first record-only one: the declarations test holds that order)
  dataSharedPublicly,
  dataSharedOut,
  databasePublic,
  dbSecurityGroupOpenToWorld,
  // Issue 18, evidence group: resources made public, evidence destroyed, tooling silenced. Paged by
  // default, so before the record-only ones: the first that matches decides, and a root call would
  // otherwise be decided by root-activity.
  resourcePolicyPublic,
  codeBuildProjectPublic,
  logsDeleted,
  backupsDestroyed,
  recoveryProtectionOff,
  securityToolingDisabled,
  guardDutyFindingsSuppressed,
  // Breadth (docs/detection-coverage.md): the rule sets' high-rated categories that mean an attacker
  // acting now; paged, so before every record (traffic-mirroring-change records a mirror's target).
  ...exfiltrationPaged,
  ...accessPaged,
  // Read-only calls (issue 18): delivered only by the read-only rule a stage may turn on.
  ...readOnlyDetections,
  // sigma (issue 18): the Sigma rules of detections/, after the built-in pages (a specific built-in
  // decides first) and before the built-in records (a Sigma rule that pages is not silenced by them).
  sigmaRule,
  rootActivity,
  consoleSignInFailure,
  unauthorizedApiCall,
  ...changes,
  // exposure (issue 18): recorded, not paged
  rdsExportedToS3,
  // records (18d): what an incident review needs, recorded not paged; kept after every paging block
  ...reviewRecords,
  // Breadth (docs/detection-coverage.md): recorded, not paged; after every paging block.
  ...deletions,
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
  pagesOnlyIf?: { trailLogBucket: string };
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
