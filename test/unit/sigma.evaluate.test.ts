import { describe, expect, it } from 'vitest';
import { compileSigmaRule } from '#functions/onCloudTrail/sigma/compile.ts';
import { MAX_VALUE_LENGTH, ruleMatches } from '#functions/onCloudTrail/sigma/evaluate.ts';
import type { CompiledRule } from '#functions/onCloudTrail/sigma/rule.ts';

/**
 * The evaluator against the Sigma specification's semantics (sigma-specification, "Sigma Rules
 * Specification": detection, value modifiers, condition), each example written here on CloudTrail fields.
 */

/** A rule routed on ConsoleLogin whose detection is the given YAML lines (two spaces in). */
function rule(detection: string): CompiledRule {
  const text = `title: Example
id: 00000000-0000-4000-8000-000000000001
level: high
logsource:
  product: aws
  service: cloudtrail
detection:
  routed:
    eventName: ConsoleLogin
${detection}`;
  const compiled = compileSigmaRule(text, 'detections/example.yml');
  if (!compiled.rule) throw new Error(compiled.errors.map((e) => `${e.line}: ${e.message}`).join('; '));
  return compiled.rule;
}

const record = (fields: Record<string, unknown> = {}) => ({
  eventName: 'ConsoleLogin',
  eventSource: 'signin.amazonaws.com',
  sourceIPAddress: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0',
  userIdentity: { type: 'IAMUser', userName: 'alice', arn: 'arn:aws:iam::123456789012:user/alice' },
  ...fields,
});

describe('Sigma values', () => {
  it('compares a plain value whole and case-insensitively', () => {
    const r = rule('  sel:\n    userIdentity.userName: ALICE\n  condition: routed and sel');
    expect(ruleMatches(r, record())).toBe(true);
    expect(ruleMatches(r, record({ userIdentity: { userName: 'alice2' } }))).toBe(false);
  });

  it('reads * as any run of characters and ? as one, and \\* as a star', () => {
    const star = rule(
      "  sel:\n    userIdentity.arn: 'arn:aws:iam::*:user/al?ce'\n  condition: routed and sel",
    );
    const literal = rule("  sel:\n    userAgent: 'a\\*b'\n  condition: routed and sel");
    expect(ruleMatches(star, record())).toBe(true);
    expect(ruleMatches(star, record({ userIdentity: { arn: 'arn:aws:iam::1:user/allce2' } }))).toBe(false);
    expect(ruleMatches(literal, record({ userAgent: 'a*b' }))).toBe(true);
    expect(ruleMatches(literal, record({ userAgent: 'axxb' }))).toBe(false);
  });

  it('treats a list of values as any one of them, and |all as every one', () => {
    const any = rule(
      '  sel:\n    userIdentity.userName:\n      - bob\n      - alice\n  condition: routed and sel',
    );
    const all = rule(
      '  sel:\n    userAgent|contains|all:\n      - Linux\n      - Firefox\n  condition: routed and sel',
    );
    expect(ruleMatches(any, record())).toBe(true);
    expect(ruleMatches(all, record())).toBe(true);
    expect(ruleMatches(all, record({ userAgent: 'Mozilla/5.0 (Windows) Firefox/128.0' }))).toBe(false);
  });

  it('treats a list of maps as any map, and a map as all of its fields', () => {
    const r = rule(
      '  sel:\n    - userIdentity.type: Root\n    - userIdentity.type: IAMUser\n      sourceIPAddress: 198.51.100.1\n  condition: routed and sel',
    );
    expect(ruleMatches(r, record({ userIdentity: { type: 'Root' } }))).toBe(true);
    expect(ruleMatches(r, record({ sourceIPAddress: '198.51.100.1' }))).toBe(true);
    expect(ruleMatches(r, record())).toBe(false);
  });

  it('matches contains, startswith and endswith anywhere, at the start, at the end', () => {
    const contains = rule('  sel:\n    userAgent|contains: linux\n  condition: routed and sel');
    const starts = rule('  sel:\n    userAgent|startswith: Mozilla\n  condition: routed and sel');
    const ends = rule('  sel:\n    userAgent|endswith: Mozilla\n  condition: routed and sel');
    expect(ruleMatches(contains, record())).toBe(true);
    expect(ruleMatches(starts, record())).toBe(true);
    expect(ruleMatches(ends, record())).toBe(false);
  });

  it('runs |re as a case-sensitive regular expression', () => {
    const r = rule("  sel:\n    userAgent|re: 'Firefox/1[0-9]{2}'\n  condition: routed and sel");
    const lower = rule("  sel:\n    userAgent|re: 'firefox'\n  condition: routed and sel");
    expect(ruleMatches(r, record())).toBe(true);
    expect(ruleMatches(lower, record())).toBe(false);
  });

  it('matches |cidr on addresses of either family, and never on a service name', () => {
    const r = rule(
      "  sel:\n    sourceIPAddress|cidr:\n      - 203.0.113.0/24\n      - '2001:db8::/32'\n  condition: routed and sel",
    );
    expect(ruleMatches(r, record())).toBe(true);
    expect(ruleMatches(r, record({ sourceIPAddress: '2001:db8::7' }))).toBe(true);
    expect(ruleMatches(r, record({ sourceIPAddress: '198.51.100.7' }))).toBe(false);
    expect(ruleMatches(r, record({ sourceIPAddress: 'ec2.amazonaws.com' }))).toBe(false);
  });

  it('matches null on a missing or null field, and |exists on presence', () => {
    const missing = rule('  sel:\n    errorCode: null\n  condition: routed and sel');
    const exists = rule('  sel:\n    requestParameters.userName|exists: true\n  condition: routed and sel');
    expect(ruleMatches(missing, record())).toBe(true);
    expect(ruleMatches(missing, record({ errorCode: null }))).toBe(true);
    expect(ruleMatches(missing, record({ errorCode: 'AccessDenied' }))).toBe(false);
    expect(ruleMatches(exists, record({ requestParameters: { userName: 'bob' } }))).toBe(true);
    expect(ruleMatches(exists, record({ requestParameters: {} }))).toBe(false);
  });

  it('matches a field holding a list when one item does, and numbers and booleans as text', () => {
    const r = rule(
      "  sel:\n    requestParameters.ports: '22'\n    requestParameters.force: 'true'\n  condition: routed and sel",
    );
    expect(ruleMatches(r, record({ requestParameters: { ports: [80, 22], force: true } }))).toBe(true);
    expect(ruleMatches(r, record({ requestParameters: { ports: [80], force: true } }))).toBe(false);
  });

  it('does not read a value longer than the bound', () => {
    const r = rule('  sel:\n    userAgent|contains: Firefox\n  condition: routed and sel');
    expect(ruleMatches(r, record({ userAgent: `${'x'.repeat(MAX_VALUE_LENGTH)}Firefox` }))).toBe(false);
  });
});

describe('Sigma conditions', () => {
  const selections =
    '  sel_root:\n    userIdentity.type: Root\n  sel_ip:\n    sourceIPAddress: 203.0.113.7\n  _helper:\n    userAgent: nothing\n';

  it('binds and tighter than or', () => {
    // (routed and not sel_root) or (routed and sel_ip); read the other way it would need sel_ip.
    const r = rule(`${selections}  condition: routed and not sel_root or routed and sel_ip`);
    expect(ruleMatches(r, record({ sourceIPAddress: '198.51.100.1' }))).toBe(true);
    expect(ruleMatches(r, record({ userIdentity: { type: 'Root' }, sourceIPAddress: '198.51.100.1' }))).toBe(
      false,
    );
  });

  it('binds not tighter than and', () => {
    // routed and (not sel_root) and sel_ip; read as not (sel_root and sel_ip) it would match a Root call.
    const r = rule(`${selections}  condition: routed and not sel_root and sel_ip`);
    expect(ruleMatches(r, record())).toBe(true);
    expect(ruleMatches(r, record({ userIdentity: { type: 'Root' }, sourceIPAddress: '198.51.100.1' }))).toBe(
      false,
    );
  });

  it('groups with parentheses', () => {
    const r = rule(`${selections}  condition: routed and not (sel_root or sel_ip)`);
    expect(ruleMatches(r, record())).toBe(false);
    expect(ruleMatches(r, record({ sourceIPAddress: '198.51.100.1' }))).toBe(true);
  });

  it('reads 1 of sel_* as any selection the pattern names, and all of sel_* as every one', () => {
    const one = rule(`${selections}  condition: routed and 1 of sel_*`);
    const all = rule(`${selections}  condition: routed and all of sel_*`);
    expect(ruleMatches(one, record())).toBe(true);
    expect(ruleMatches(all, record())).toBe(false);
    expect(ruleMatches(all, record({ userIdentity: { type: 'Root' } }))).toBe(true);
  });

  it('reads all of them as every selection not starting with an underscore', () => {
    const r = rule(`${selections}  condition: all of them`);
    expect(ruleMatches(r, record({ userIdentity: { type: 'Root' } }))).toBe(true);
  });
});
