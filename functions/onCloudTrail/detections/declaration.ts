import type { EventPattern } from '#functions/index.ts';
import type { IngressPermission } from '#shared/domain/intent.ts';
import type { Severity } from '#shared/domain/severity.ts';
import type { ResourceRef } from '#shared/domain/signal.ts';
import type { CloudTrailEvent } from '../schema.ts';
import type { DetectionAction } from '../settings.ts';
import type { RemediationKind } from './remediations.ts';

/** What undoes the change, from validated fields of the record only. */
export type RemediationTarget =
  | {
      kind: 'revoke-world-ingress';
      groupId: string;
      /** Exactly the world-open ranges the call added, nothing else of the group. */
      permissions: IngressPermission[];
    }
  | { kind: 'restore-public-access-block'; bucket: string }
  | { kind: 'start-logging'; trail: string }
  | {
      kind: 'revoke-ec2-share';
      resource: 'snapshot' | 'image';
      id: string;
      /** `all` was added: remove it. */
      everyone: boolean;
      /** Exactly the foreign accounts the call added, nothing else of the permission. */
      accounts: string[];
    }
  | {
      kind: 'revoke-rds-snapshot-share';
      resource: 'db-snapshot' | 'db-cluster-snapshot';
      /** The snapshot's identifier, or its ARN (scope checks its account and region). */
      id: string;
      /** `all` was added to its `restore` attribute: remove it. */
      everyone: boolean;
      /** Exactly the foreign accounts the call added, nothing else of the attribute. */
      accounts: string[];
    };

/** What a detection finds in a record; evidence entries it could not read are left undefined and dropped. */
/**
 * What gather must find for a finding to page: a trail's log bucket, or a bucket of another account
 * (null: the record's bucket name is unreadable, so nothing can be looked up and it is recorded).
 */
export type PagesOnlyIf = { trailLogBucket: string } | { bucketOutsideAccount: string | null };

export interface Found {
  /** One line: what was done, to what. */
  what: string;
  resource?: ResourceRef;
  /** The dangerous part of the request (CIDR and ports, the public statement, the policy ARN). */
  evidence: Record<string, string | undefined>;
  remediation?: RemediationTarget;
  /**
   * The finding pages only if gather finds the condition true: the bucket is a trail's log bucket
   * (DescribeTrails), or the bucket is not this account's (ListBuckets); otherwise the plan records it.
   */
  pagesOnlyIf?: PagesOnlyIf;
}

/** What a detection may know of the stage besides the record: whom the stage trusts. */
export interface DetectionContext {
  /** Accounts the stage trusts (`cloudTrail.trustedAccounts`); the record's own account always is. */
  trustedAccounts: ReadonlySet<string>;
  /** The stage's organization (`cloudTrail.organizationId`), if set. */
  organizationId?: string;
  /** Who reads secrets as a matter of course (`cloudTrail.secretReaders`): role and user ARNs. */
  secretReaders?: ReadonlySet<string>;
  /** Secret scanners' user agents (`cloudTrail.readOnlyRule.scannerUserAgents`). */
  scannerUserAgents?: readonly string[];
}

/** A stage that trusts no other account and names no organization. */
export const TRUSTS_NO_ONE: DetectionContext = { trustedAccounts: new Set() };

/** Whether an account a record names is outside the record's own account and the stage's trusted ones. */
export const isForeignAccount = (account: string, e: CloudTrailEvent, context: DetectionContext): boolean =>
  account !== e.detail.recipientAccountId && account !== e.account && !context.trustedAccounts.has(account);

/**
 * One CloudTrail detection, declared once: the catalogue (settings.ts), the event pattern, the
 * remediation's executor and IAM statement are all derived from these fields.
 */
export interface Detection<Name extends string = string> {
  name: Name;
  /** The CIS AWS Foundations Benchmark monitoring control it covers (v5.0 numbering), if any. */
  cis?: string;
  severity: Severity;
  /** What it does unless a stage says otherwise. */
  action: DetectionAction;
  /**
   * What undoes its change exactly (detections/remediations.ts), one per kind of resource it covers
   * (EBS and AMI shares, RDS snapshot shares); off unless a stage turns it on, which grants them all.
   */
  remediations?: readonly RemediationKind[];
  /** One line for the docs and the page. */
  describes: string;
  /**
   * A call an AWS service makes through its service-linked role (serviceLinkedRole.ts) is recorded,
   * never paged or remediated: the service does what someone set it up to do, and that set-up was a
   * call of its own. `as-for-anyone` where the change is the danger whoever made it: something opened
   * to outsiders, or AWS flagging a leaked key (docs/functions/onCloudTrail.md#service-linked-roles).
   */
  serviceLinkedRole?: 'as-for-anyone';
  /**
   * What the rule must deliver for it: successful calls by name, or a `detail` branch of its own
   * (any call by root, any refused call) for what names cannot say. `readOnly` calls reach only the
   * second rule a stage may turn on (`cloudTrail.readOnlyRule`), never the main rules.
   */
  watches: { calls: readonly string[]; readOnly?: true } | { detail: EventPattern };
  /**
   * Pure: what the record did that matters, or undefined. Sees only calls that succeeded, except the
   * detection of refused calls (see `detect`). Request parameters are untrusted JSON: every value taken
   * from them is checked against its AWS format before it reaches a page line or a remediation.
   */
  match(e: CloudTrailEvent, context: DetectionContext): Found | undefined;
}

/** Keeps a declaration's name as its literal type, so the settings' enum is derived from the list. */
export const detection = <const Name extends string>(d: Detection<Name>): Detection<Name> => d;

export const from = (source: string, e: CloudTrailEvent) =>
  e.detail.eventSource === `${source}.amazonaws.com`;
export const isRoot = (e: CloudTrailEvent) => e.detail.userIdentity.type === 'Root';

export const changed = (what: string, id?: string): Found => ({
  what: `${what}${id ? ` ${id}` : ''}`,
  evidence: {},
});

/** A detection that records any successful call of a list from one service (the CIS change controls). */
export function callsIn<const Name extends string>(
  source: string,
  d: Omit<Detection<Name>, 'watches' | 'match'> & { calls: readonly string[] },
): Detection<Name> {
  const { calls, ...rest } = d;
  const names = new Set(calls);
  return {
    ...rest,
    watches: { calls },
    match: (e) =>
      from(source, e) && names.has(e.detail.eventName) ? changed(e.detail.eventName) : undefined,
  };
}
