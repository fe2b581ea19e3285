/**
 * What "scoped" means for an IAM statement, for every template the project makes (the stack's roles in
 * test/package/security.test.ts, the member roles of an organization's stage): no `*` or `service:*`
 * action, no NotAction or NotResource, and every mutating action on a resource other than `*` or under
 * a condition.
 */
export type ScopedStatement = {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

export const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Reads change nothing: they need no resource scope beyond what the service supports. */
export const READ_ONLY = /^[a-z0-9-]+:(Get|Describe|List|View|BatchGet|Query|Scan)[A-Za-z]*$/;
/**
 * X-Ray's segment and telemetry uploads support no resource-level permission
 * (https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html); they write
 * traces only.
 */
export const TELEMETRY = new Set(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']);

/** Each statement with a wildcard action, a NotAction or an allowed NotResource, as `<owner> <Sid>: why`. */
export function wildcardFindings(owners: [string, ScopedStatement[]][]): string[] {
  const findings: string[] = [];
  for (const [owner, statements] of owners) {
    for (const st of statements) {
      const at = `${owner} ${st.Sid ?? '(no Sid)'}`;
      if (st.NotAction !== undefined) findings.push(`${at}: NotAction`);
      if (st.Effect === 'Allow' && st.NotResource !== undefined) findings.push(`${at}: NotResource`);
      for (const action of list(st.Action)) if (/(^\*$|:\*$)/.test(action)) findings.push(`${at}: ${action}`);
    }
  }
  return findings;
}

/** Each allowed statement whose mutating actions reach any resource (`*`) with no condition. */
export function unscopedFindings(owners: [string, ScopedStatement[]][]): string[] {
  const unscoped: string[] = [];
  for (const [owner, statements] of owners) {
    for (const st of statements.filter((s) => s.Effect === 'Allow')) {
      const mutating = list(st.Action).filter((a) => !READ_ONLY.test(a) && !TELEMETRY.has(a));
      if (mutating.length === 0) continue;
      const anyResource = list(st.Resource).some((r) => r === '*');
      const conditioned = Object.keys(st.Condition ?? {}).length > 0;
      if (anyResource && !conditioned) unscoped.push(`${owner} ${st.Sid}: ${mutating.join(', ')}`);
    }
  }
  return unscoped;
}
