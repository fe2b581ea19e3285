import type { Severity } from '#shared/domain/severity.ts';
import type { EvidenceLink, ResourceRef } from './signal.ts';

/** Start an SSM Automation runbook. Parameters were validated during planning. */
export interface RunbookIntent {
  kind: 'ssm.start-automation';
  document: string;
  parameters: Record<string, string[]>;
  /** Derived from the incident, so a retried or duplicated delivery starts one execution. */
  clientToken: string;
  rule: string;
  reason: string;
  /**
   * The plan pages the incident after the start: the execution's record is written once, with the page
   * it links (the page executor's sent mark), instead of after the start and linked later.
   */
  recordedWithPage?: true;
}

/** One instance to stop, with its own evidence (its figures go to the action log, not to a tag). */
export interface InstanceToStop {
  instanceId: string;
  reason: string;
}

/** Stop idle EC2 instances (batched) and tag them ops:stopped-by/-at/-reason. */
export interface StopInstancesIntent {
  kind: 'ec2.stop-instances';
  instances: InstanceToStop[];
  reason: string;
  /**
   * The ops:stop-reason tag of every instance the run stops: the rule and its thresholds, the same for
   * the whole run, so tagging costs one CreateTags call per 1000 stops instead of one per instance.
   */
  tagReason: string;
  /** The rolling-hour limit the stops are claimed against (the stage's idleStop.maxStopsPerHour if unset). */
  maxStopsPerHour?: number;
  /**
   * The decision the stops belong to, keying its budget claim and stop list (the delivery's correlation
   * id if unset): deliveries of one decision (a cost anomaly at one impact) then claim and stop once.
   */
  run?: string;
  /**
   * The account and region the stops happen in, on an organization's fanned-out scan: the executor
   * then uses that target's clients (shared/organization/scanTargets.ts): the member's acting clients, or
   * this account's in that region for the central account's own target. Unset: this account and region.
   */
  target?: { account: string; region: string };
}

/**
 * An organization's scheduled idle scan: one queue message per (account, region), each scanned by its
 * own worker run, so one slow or broken account does not hold the others up. Changes no resource.
 */
export interface FanOutScanIntent {
  kind: 'sqs.fan-out-scan';
  /** The scheduled run (its event id): every target's worker run belongs to it. */
  run: string;
  targets: { account: string; region: string }[];
}

/** One ingress range exactly as a call added it: the revoke names nothing else of the group. */
export interface IngressPermission {
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
}

/** Revoke the world-open ingress ranges a recorded call added to a security group, and only those. */
export interface RevokeIngressIntent {
  kind: 'ec2.revoke-ingress';
  groupId: string;
  permissions: IngressPermission[];
  /** The detection that asks for it: the rate guard counts its actions. */
  detection: string;
  reason: string;
}

/** Turn all four settings of a bucket's public access block back on. */
export interface RestorePublicAccessBlockIntent {
  kind: 's3.restore-public-access-block';
  bucket: string;
  /** The account the record is from: S3 refuses the call if another account owns the bucket. */
  expectedOwner: string;
  /** The detection that asks for it: the rate guard counts its actions. */
  detection: string;
  reason: string;
}

/** Start logging again on a trail a recorded call stopped. */
export interface StartLoggingIntent {
  kind: 'cloudtrail.start-logging';
  trail: string;
  /** The detection that asks for it: the rate guard counts its actions. */
  detection: string;
  reason: string;
}

/**
 * Remove from an EBS snapshot's create-volume permission or an AMI's launch permission exactly the
 * `all` group and the foreign accounts a recorded call added; every other grantee stays.
 */
export interface RevokeEc2ShareIntent {
  kind: 'ec2.revoke-share';
  resource: 'snapshot' | 'image';
  id: string;
  everyone: boolean;
  accounts: string[];
  /** The detection that asks for it: the rate guard counts its actions. */
  detection: string;
  reason: string;
}

/**
 * Remove from a manual RDS DB or DB cluster snapshot's `restore` attribute exactly the `all` value and
 * the foreign accounts a recorded call added; every other account stays.
 */
export interface RevokeRdsSnapshotShareIntent {
  kind: 'rds.revoke-snapshot-share';
  resource: 'db-snapshot' | 'db-cluster-snapshot';
  /** The snapshot's identifier in this account and region (never an ARN: scope checked that). */
  id: string;
  everyone: boolean;
  accounts: string[];
  /** The detection that asks for it: the rate guard counts its actions. */
  detection: string;
  reason: string;
}

/**
 * Retry a failed AWS Backup job once, with AWS's own answer (DescribeBackupJob) for what to back up,
 * where and as which role: never the event's fields.
 */
export interface RetryBackupIntent {
  kind: 'backup.retry-job';
  /** The failed job: the retry is claimed under it, so it is retried at most once. */
  failedJobId: string;
  backupVaultName: string;
  resourceArn: string;
  /** AWS Backup's resource type (EBS, EC2, DynamoDB, ...): names a resource it reports gone. */
  resourceType: string;
  iamRoleArn: string;
  /** Derived from the failed job id: a repeated request returns the same retry job. */
  idempotencyToken: string;
  /** Days the retry's recovery point is kept (StartBackupJob's Lifecycle.DeleteAfterDays). */
  deleteAfterDays: number;
  reason: string;
}

export type PageNotice = 'incident' | 'resolve';

/** What a person on call reads: the page's own content, decided by the plan (see `pageIntent`). */
export interface PageContent {
  /** The signal kind (`alarm.state-change`): the subject's prefix and the `kind` attribute. */
  source: string;
  title: string;
  summary: string;
  account: string;
  region: string;
  resources: ResourceRef[];
  evidence: Record<string, string | number | boolean>;
  links: EvidenceLink[];
  /** Why it pages (and why other actions were or were not taken). */
  reason: string;
  /** Extra lines for the body, e.g. the verdict table of an idle scan. */
  details?: string[];
  /** Said under "What the automation did" when the decision took no other action. */
  nothingDone: string;
}

/** Page people through the SNS topic. Always live, also in dry-run. */
export interface PageIntent {
  kind: 'sns.page';
  notice: PageNotice;
  severity: Severity;
  /** The incident it belongs to: suppression and the page id key on it. */
  incidentKey: string;
  /** The delivery that asks for it: it claims the suppression window. */
  correlationId: string;
  /** When the reported state began (an alarm's state timestamp): orders late ALARMs and OKs. */
  occurredAt: string;
  content: PageContent;
}

/**
 * Every action the system can take. Adding a kind without an executor does not compile. No intent
 * carries a dry-run flag: whether it runs is the runtime's decision (shared/runtime/pipeline.ts).
 */
/**
 * Decide a pending approval (approveAction): record who approved or rejected it and, on approve, run the
 * recorded action through its owner's executor. `action` is the pending record's, as read.
 */
export interface ApprovalDecisionIntent {
  kind: 'approval.decide';
  approvalId: string;
  decision: 'approve' | 'reject';
  decidedBy: string;
  chatUser?: string;
  reason?: string;
  action: {
    /** The registered function that planned it, and its deployed name (its records' prefix). */
    owner: string;
    ownerFunction: string;
    /** The intent and the signal it was planned from, as recorded (JSON). */
    intent: string;
    signal: string;
    /** The owner's settings its executor reads (JSON). */
    settings: string;
    preview: string;
  };
}

export type Intent =
  | ApprovalDecisionIntent
  | RunbookIntent
  | PageIntent
  | FanOutScanIntent
  | StopInstancesIntent
  | RevokeIngressIntent
  | RestorePublicAccessBlockIntent
  | StartLoggingIntent
  | RevokeEc2ShareIntent
  | RevokeRdsSnapshotShareIntent
  | RetryBackupIntent;
export type IntentKind = Intent['kind'];

/** A decision not to act, kept so the action log and the page can say why. */
export interface PlanNote {
  decision: 'skipped';
  reason: SkipReason;
  detail: string;
  /** The kind of action withheld, when there is one: its executor's metrics count the refusal. */
  withheld?: IntentKind;
}

export interface Plan<I extends Intent = Intent, F = undefined> {
  intents: I[];
  notes: PlanNote[];
  /** What the plan found beside its intents (e.g. every idle verdict): typed per function. */
  findings?: F;
  /** A run that chose dry-run itself (a manual payload asked for it) says so; it cannot turn dry-run off. */
  dryRun?: boolean;
}

/** The closed set of reasons an action was not taken. */
export type SkipReason =
  | 'dry-run'
  | 'suppressed'
  | 'no-open-incident'
  | 'muted'
  | 'no-matching-rule'
  | 'invalid-parameter'
  | 'not-paged-state'
  | 'capped'
  | 'nothing-to-do'
  | 'already-recovered'
  | 'superseded'
  | 'out-of-scope'
  | 'limit-reached'
  /** A detection set to record: the action log and a metric, no page. */
  | 'record-only'
  /** What a remediation would undo is already undone (the rule is gone, logging is on). */
  | 'already-remediated'
  /** The rule or detection used its mutating actions for the window (shared/runtime/pipeline.ts). */
  | 'rate-limited'
  /** A change calendar of the stage, rule or detection is CLOSED or unreadable (shared/runtime/changeFreeze.ts). */
  | 'change-freeze'
  /** An idle scan could not read some instances' metrics: they are spared as no-data. */
  | 'metrics-unavailable'
  /** The mutation waits for a person's approval (shared/approval/): recorded, not done. */
  | 'approval-pending'
  /** approveAction's refusals: the id is past its expiry, decided already, unknown or another stage's. */
  | 'expired'
  | 'decided'
  | 'unknown'
  | 'foreign-stage'
  /** The kill switch is set: an approval acts on nothing, and stays pending until it expires. */
  | 'kill-switch'
  /** A change calendar is closed: the approval stays pending until it expires. */
  | 'change-freeze'
  /** The incident the action answers is over (the alarm returned to OK). */
  | 'resolved'
  /** A person rejected the action. */
  | 'rejected'
  /** The event's account is set to `off` on an organization's stage (shared/organization/mode.ts). */
  | 'account-off'
  /** The event's account has no current member stack on an organization's stage (servedAccounts.ts). */
  | 'account-not-served';
