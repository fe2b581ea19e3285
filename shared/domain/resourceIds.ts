/**
 * The AWS formats of the resource ids a remediation acts on, declared once: onCloudTrail's detections
 * check a record's values with them before a page line or a remediation (functions/onCloudTrail/
 * detections/formats.ts), and approveAction checks a recorded remediation with them again before it
 * acts (shared/approval/remediationScope.ts). A value that passed the first check passes the second.
 */
export const RESOURCE_ID_FORMATS = {
  securityGroupId: /^sg-[0-9a-f]{8,17}$/,
  ipv4Cidr: /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/,
  ipv6Cidr: /^[0-9A-Fa-f:.]{2,45}\/(12[0-8]|1[01]\d|[1-9]?\d)$/,
  protocol: /^(tcp|udp|icmp|icmpv6|all|-1|\d{1,3})$/i,
  bucket: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  /** A trail by name (what StartLogging is called with). */
  trailName: /^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$/,
  /** A trail by name or ARN (what a record may name). */
  trail:
    /^([A-Za-z0-9][A-Za-z0-9._-]{2,127}|arn:aws[a-z-]*:cloudtrail:[a-z0-9-]+:\d{12}:trail\/[A-Za-z0-9][A-Za-z0-9._-]{2,127})$/,
  accountId: /^\d{12}$/,
  ebsSnapshotId: /^snap-[0-9a-f]{8,17}$/,
  imageId: /^ami-[0-9a-f]{8,17}$/,
  /** A manual DB or cluster snapshot by identifier (what a share is revoked on). */
  rdsSnapshotIdentifier: /^[A-Za-z][A-Za-z0-9-]{0,254}$/,
  /** A manual DB or cluster snapshot, by identifier or ARN (automated ones, `rds:...`, cannot be shared). */
  rdsSnapshot:
    /^([A-Za-z][A-Za-z0-9-]{0,254}|arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:(cluster-)?snapshot:[A-Za-z][A-Za-z0-9-]{0,254})$/,
} as const;
