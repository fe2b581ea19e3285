import { RESOURCE_ID_FORMATS as IDS } from '#shared/domain/resourceIds.ts';
import { type Json, str } from './json.ts';

/** The AWS formats a value from a record must have before it reaches a page line or a remediation. */
export const FORMATS = {
  securityGroupId: IDS.securityGroupId,
  securityGroupRuleId: /^sgr-[0-9a-f]{8,17}$/,
  ipv4Cidr: IDS.ipv4Cidr,
  ipv6Cidr: IDS.ipv6Cidr,
  protocol: IDS.protocol,
  bucket: IDS.bucket,
  trail: IDS.trail,
  iamPolicyArn: /^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/[\w+=,.@/-]{1,512}$/,
  iamName: /^[\w+=,.@-]{1,128}$/,
  kmsKey: /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/)?[0-9a-fA-F-]{36}$|^mrk-[0-9a-f]{32}$/,
  // Shares and databases (issue 18, exposure).
  accountId: IDS.accountId,
  ebsSnapshotId: IDS.ebsSnapshotId,
  imageId: IDS.imageId,
  organizationArn: /^arn:aws[a-z-]*:organizations::\d{12}:organization\/o-[a-z0-9]{10,32}$/,
  organizationalUnitArn:
    /^arn:aws[a-z-]*:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}$/,
  /** A DB instance or cluster identifier: a letter, then letters, digits and hyphens. */
  rdsIdentifier: /^[A-Za-z][A-Za-z0-9-]{0,62}$/,
  /** A manual DB or cluster snapshot, by identifier or ARN (automated ones, `rds:...`, cannot be shared). */
  rdsSnapshot: IDS.rdsSnapshot,
  rdsExportTask: /^[A-Za-z][A-Za-z0-9-]{0,59}$/,
  rdsSourceArn:
    /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(cluster-)?snapshot:[A-Za-z][A-Za-z0-9:-]{0,254}$|^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:cluster:[A-Za-z][A-Za-z0-9-]{0,62}$/,
  dbSecurityGroupName: /^[A-Za-z][A-Za-z0-9 _.-]{0,254}$/,
  // Resource policies, evidence and tooling (issue 18, evidence).
  ecrRepository: /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/,
  sqsQueueUrl:
    /^https:\/\/(sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?|[a-z0-9-]+\.queue\.amazonaws\.com)\/\d{12}\/[\w-]{1,80}(\.fifo)?$/,
  snsTopicArn: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\.fifo)?$/,
  secretId: /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[\w/+=.@-]{1,512}$/,
  searchDomain: /^[a-z][a-z0-9-]{2,27}$/,
  codeBuildProjectArn:
    /^arn:aws[a-z-]*:codebuild:[a-z0-9-]+:\d{12}:project\/[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/,
  rdsArn: /^arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(db|cluster):[A-Za-z][A-Za-z0-9-]{0,62}$/,
  rdsResourceId: /^(db|cluster)-[A-Za-z0-9]{1,64}$/,
  resolverQueryLogConfigId: /^rqlc-[0-9a-f]{16}$/,
  backupName: /^[A-Za-z0-9_.-]{2,50}$/,
  backupPlanId: /^[A-Za-z0-9-]{1,128}$/,
  backupRecoveryPoint: /^(arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:[\w:/.-]{1,900}|[\w-]{1,128})$/,
  awsArn: /^arn:aws[a-z-]*:[a-z0-9-]{1,64}:[a-z0-9-]*:\d{12}:[\w:/+=,.@-]{1,900}$/,
  accessAnalyzerName: /^[A-Za-z][A-Za-z0-9_.-]{0,254}$/,
  guardDutyDetectorId: /^[0-9a-f]{32}$/,
  guardDutyName: /^[\w.:-]{1,300}$/,
  // Lifecycle rules (issue 18): an ID is up to 255 characters; a date is ISO 8601 at midnight UTC.
  instanceId: /^i-[0-9a-f]{8,17}$/,
  lifecycleRuleId: /^[\x20-\x7E]{1,255}$/,
  isoDate: /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2}))?$/,
} as const;

export const valid = (format: keyof typeof FORMATS, v: Json): string | undefined => {
  const s = str(v);
  return s !== undefined && FORMATS[format].test(s) ? s : undefined;
};
export const port = (v: Json): number | undefined => {
  const n = typeof v === 'string' && /^-?\d{1,5}$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= -1 && n <= 65_535 ? n : undefined;
};
/** A value for a page line: its format checked, else marked, so a crafted string shows as nothing worse. */
export const shown = (format: keyof typeof FORMATS, v: Json) => valid(format, v) ?? '(unreadable)';
