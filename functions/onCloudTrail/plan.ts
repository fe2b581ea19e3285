import type {
  PageIntent,
  Plan,
  PlanNote,
  RestorePublicAccessBlockIntent,
  RevokeEc2ShareIntent,
  RevokeIngressIntent,
  RevokeRdsSnapshotShareIntent,
  StartLoggingIntent,
} from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { PagesOnlyIf } from './detections/declaration.ts';
import { REMEDIATIONS } from './detections/remediations.ts';
import type { RemediationTarget } from './detections.ts';
import type { CloudTrailGathered } from './gather.ts';
import type { CloudTrailConfig } from './settings.ts';
import type { CloudTrailFacts } from './signal.ts';

export type RemediationIntent =
  | RevokeIngressIntent
  | RestorePublicAccessBlockIntent
  | StartLoggingIntent
  | RevokeEc2ShareIntent
  | RevokeRdsSnapshotShareIntent;
export type CloudTrailIntent = RemediationIntent | PageIntent;

/** The intent that undoes exactly what the record did, from its validated fields only. */
function remediationIntent(
  target: RemediationTarget,
  account: string,
  detection: string,
  reason: string,
): RemediationIntent {
  switch (target.kind) {
    case 'revoke-world-ingress':
      return {
        kind: 'ec2.revoke-ingress',
        groupId: target.groupId,
        permissions: target.permissions,
        detection,
        reason,
      };
    case 'restore-public-access-block':
      return {
        kind: 's3.restore-public-access-block',
        bucket: target.bucket,
        expectedOwner: account,
        detection,
        reason,
      };
    case 'start-logging':
      // Scope has checked that an ARN's account and region are this function's: there its name alone
      // names the same trail.
      return {
        kind: 'cloudtrail.start-logging',
        trail: target.trail.split('/').pop() ?? target.trail,
        detection,
        reason,
      };
    case 'revoke-ec2-share':
      return {
        kind: 'ec2.revoke-share',
        resource: target.resource,
        id: target.id,
        everyone: target.everyone,
        accounts: target.accounts,
        detection,
        reason,
      };
    case 'revoke-rds-snapshot-share':
      // Scope has checked that an ARN's account and region are this function's: there its last part
      // names the same snapshot.
      return {
        kind: 'rds.revoke-snapshot-share',
        resource: target.resource,
        id: target.id.split(':').pop() ?? target.id,
        everyone: target.everyone,
        accounts: target.accounts,
        detection,
        reason,
      };
  }
}

/**
 * Whether a finding that pages only on a trail's log bucket does, from the trails gather read: a
 * bucket no trail logs to is recorded; trails that could not be read page, so a person checks.
 */
function trailLogBucketCheck(
  condition: { trailLogBucket: string },
  gathered: CloudTrailGathered,
): { pages: boolean; why?: string } {
  const bucket = condition.trailLogBucket;
  const read = gathered.trailLogBuckets;
  if (!read || 'unreadable' in read) {
    return {
      pages: true,
      why: `could not read the trails to tell whether ${bucket} is a log bucket (${read?.unreadable ?? 'not read'}): paged in case it is`,
    };
  }
  // Own properties only: a bucket named `constructor` would otherwise find Object's.
  const trails = Object.hasOwn(read.buckets, bucket) ? read.buckets[bucket] : undefined;
  return trails
    ? { pages: true, why: `${bucket} is the log bucket of trail ${trails.join(', ')}` }
    : { pages: false, why: `${bucket} is the log bucket of no trail of this account (DescribeTrails)` };
}

/**
 * Whether an export that pages only to another account's bucket does, from gather's ListBuckets: this
 * account's bucket is recorded; an owner that could not be read is recorded too, saying so, since an
 * unreadable answer is not evidence the data left the account.
 */
function exportBucketCheck(
  bucket: string | null,
  account: string,
  gathered: CloudTrailGathered,
): { pages: boolean; why?: string } {
  if (bucket === null) {
    return {
      pages: false,
      why: 'the bucket name in the record is unreadable, so its owner could not be looked up',
    };
  }
  const read = gathered.exportBucketOwner;
  if (!read || read.bucket !== bucket || 'unreadable' in read) {
    const reason = read && read.bucket === bucket && 'unreadable' in read ? read.unreadable : 'not read';
    return {
      pages: false,
      why: `could not tell whether ${bucket} is a bucket of account ${account} (${reason}): check who owns it`,
    };
  }
  return read.owned
    ? { pages: false, why: `${bucket} is a bucket of account ${account} (ListBuckets)` }
    : { pages: true, why: `${bucket} is not a bucket of account ${account} (ListBuckets)` };
}

/** Whether a finding with a condition on what gather reads pages; one without always may. */
function gatheredCheck(
  finding: { pagesOnlyIf?: PagesOnlyIf },
  account: string,
  gathered: CloudTrailGathered,
): { pages: boolean; why?: string } {
  const condition = finding.pagesOnlyIf;
  if (!condition) return { pages: true };
  return 'trailLogBucket' in condition
    ? trailLogBucketCheck(condition, gathered)
    : exportBucketCheck(condition.bucketOutsideAccount, account, gathered);
}

/** What one record came to, for the metrics and a manual invoke's result. */
export interface CloudTrailFindings {
  detection?: string;
  action: 'page' | 'record' | 'none';
}

/** Pure: page or record the deciding detection; nothing for a record no detection claims. */
export function planCloudTrail(input: {
  signal: Signal;
  facts: CloudTrailFacts;
  gathered: CloudTrailGathered;
  config: CloudTrailConfig;
}): Plan<CloudTrailIntent, CloudTrailFindings> {
  const { signal, facts } = input;
  const notes: PlanNote[] = [];
  const also = facts.alsoMatched.length > 0 ? ` (also matched: ${facts.alsoMatched.join(', ')})` : '';
  const decided = facts.decided;
  if (decided && facts.forwardedTo) {
    notes.push({
      decision: 'skipped',
      reason: 'out-of-scope',
      detail: `${facts.eventName} ${facts.eventId} is forwarded to ${facts.forwardedTo}, whose stack decides on it`,
    });
    return { intents: [], notes, findings: { detection: decided.finding.detection, action: 'none' } };
  }
  if (!decided) {
    notes.push({
      decision: 'skipped',
      reason: 'no-matching-rule',
      detail: `${facts.eventName} ${facts.eventId} matches no detection that is on${also}`,
    });
    return { intents: [], notes, findings: { action: 'none' } };
  }
  const { finding, settings } = decided;
  const named = `detection ${finding.detection}${settings.cis ? ` (CIS ${settings.cis})` : ''}`;
  // A service acting through its service-linked role is recorded, not paged or undone, unless the
  // detection says its change is the danger whoever made it (declaration.ts, serviceLinkedRole).
  const slr = facts.serviceLinkedRole;
  const byService =
    slr && settings.serviceLinkedRole === 'recorded'
      ? `made by AWS service ${slr.service} through its service-linked role ${slr.role}`
      : undefined;
  const intents: CloudTrailIntent[] = [];
  const [firstRemediation] = settings.remediations;
  if (settings.remediate && firstRemediation) {
    const target = finding.remediation;
    // The refusal counts against the executor that would have run: the target's, else the first.
    const withheld = REMEDIATIONS[target?.kind ?? firstRemediation].intentKind;
    if (!target) {
      notes.push({
        decision: 'skipped',
        reason: 'nothing-to-do',
        detail: `${named} remediates, but this record has no exact undo (${facts.eventName}, or a value not in its AWS format); nothing changed`,
        withheld,
      });
    } else if (facts.outOfScope || byService) {
      notes.push({
        decision: 'skipped',
        reason: 'out-of-scope',
        detail: `not remediated: ${facts.outOfScope ?? byService}`,
        withheld,
      });
    } else {
      intents.push(remediationIntent(target, signal.account, finding.detection, `${named}: ${finding.what}`));
    }
  }
  const trail = gatheredCheck(finding, signal.account, input.gathered);
  const action = settings.action === 'page' && trail.pages && !byService ? 'page' : 'record';
  if (action === 'record') {
    notes.push({
      decision: 'skipped',
      reason: 'record-only',
      // The summary says who called what and when: a record without it sends the review back to CloudTrail.
      detail:
        settings.action !== 'page'
          ? `${named} is set to record: ${signal.summary}${also}`
          : byService
            ? `${named}: ${byService}; recorded, not paged: ${signal.summary}${also}`
            : `${named}: ${trail.why}; recorded, not paged: ${signal.summary}${also}`,
      withheld: 'sns.page',
    });
  } else {
    intents.push(
      pageIntent(signal, {
        notice: 'incident',
        severity: settings.severity,
        reason: `${named} matched: ${finding.what}${trail.why ? ` (${trail.why})` : ''}${also}.`,
        nothingDone: notes.some((n) => n.withheld && n.withheld !== 'sns.page')
          ? 'Nothing: the remediation was not run (see the notes in the action log); this page is the action.'
          : 'Nothing: no remediation is on for this detection; this page is the action.',
      }),
    );
  }
  return { intents, notes, findings: { detection: finding.detection, action } };
}
