import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSigmaRule } from '#functions/onCloudTrail/sigma/compile.ts';
import { GENERATED_MODULE, loadSigmaRules } from '#functions/onCloudTrail/sigma/load.ts';

/** What a detection engineer sees when a rule is outside the supported subset: the file, line and construct. */

const ROOT = join(import.meta.dirname, '..', '..');

const rule = (detection: string, level = 'high') => `title: Example
id: 00000000-0000-4000-8000-000000000002
level: ${level}
logsource:
  product: aws
  service: cloudtrail
detection:
${detection}`;

const problems = (text: string) => {
  const { errors, warnings } = compileSigmaRule(text, 'detections/example.yml');
  return {
    errors: errors.map((e) => `${e.file}:${e.line}: ${e.message}`),
    warnings: warnings.map((w) => `${w.file}:${w.line}: ${w.message}`),
  };
};

describe('Sigma rules outside the supported subset', () => {
  it('names the file, the line and an unsupported modifier', () => {
    const text = rule(
      '  sel:\n    eventName: GetObject\n    userAgent|base64offset|contains: curl\n  condition: sel',
    );
    expect(problems(text).errors).toEqual(['detections/example.yml:10: unsupported modifier "base64offset"']);
  });

  it.each([
    ['a keyword search', '  keywords:\n    - curl\n  condition: keywords', 'keyword searches'],
    ['an aggregation', '  sel:\n    eventName: GetObject\n  condition: sel | count() > 5', 'aggregation'],
    ['a timeframe', '  sel:\n    eventName: GetObject\n  timeframe: 5m\n  condition: sel', 'timeframe'],
    ['"2 of"', '  sel:\n    eventName: GetObject\n  condition: 2 of sel*', '"2 of" is not supported'],
    [
      'a catastrophic regex',
      "  sel:\n    eventName: GetObject\n    userAgent|re: '(a+)+$'\n  condition: sel",
      'nested quantifier',
    ],
    [
      'an unknown selection',
      '  sel:\n    eventName: GetObject\n  condition: sel and other',
      '"other" names no selection',
    ],
    [
      'a bad CIDR',
      '  sel:\n    eventName: GetObject\n    sourceIPAddress|cidr: 10.0.0.0/33\n  condition: sel',
      'not a CIDR block',
    ],
    [
      'a rule that cannot be routed',
      '  sel:\n    eventName|startswith: Delete\n  condition: sel',
      'cannot be routed',
    ],
    ['a negated call', '  sel:\n    eventName: GetObject\n  condition: not sel', 'cannot be routed'],
  ])('refuses %s', (_what, detection, message) => {
    const { errors } = problems(rule(detection));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(message);
    expect(errors[0]).toMatch(/^detections\/example\.yml:\d+: /);
  });

  it('refuses a rule for another log source, and an unknown level', () => {
    const windows = rule('  sel:\n    eventName: x\n  condition: sel').replace(
      'product: aws',
      'product: windows',
    );
    expect(problems(windows).errors[0]).toContain('logsource must be product aws, service cloudtrail');
    expect(problems(rule('  sel:\n    eventName: x\n  condition: sel', 'urgent')).errors[0]).toContain(
      'level must be one of',
    );
  });

  it('warns of a field the function never reads, and still compiles the rule', () => {
    const text = rule('  sel:\n    eventName: GetObject\n    EventID: 4624\n  condition: sel');
    const { errors, warnings } = problems(text);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([
      'detections/example.yml:10: field "EventID" matches no CloudTrail field the function reads',
    ]);
  });

  it('routes only the calls the condition requires', () => {
    const text = rule(
      '  sel_a:\n    eventName: PutBucketPolicy\n  sel_b:\n    eventName:\n      - DeleteBucketPolicy\n      - PutBucketAcl\n  filter:\n    eventName: GetObject\n  condition: 1 of sel_* and not filter',
    );
    expect(compileSigmaRule(text, 'x.yml').rule?.calls).toEqual([
      'DeleteBucketPolicy',
      'PutBucketAcl',
      'PutBucketPolicy',
    ]);
  });
});

describe('the rules of detections/', () => {
  it('compile without errors or warnings into the committed module the function bundles', () => {
    const load = loadSigmaRules(ROOT);
    expect(load.errors).toEqual([]);
    expect(load.warnings).toEqual([]);
    // `npm run sigma` (or `sls package`) rewrites the module; a stale one would run other rules.
    expect(JSON.parse(readFileSync(join(ROOT, GENERATED_MODULE), 'utf8'))).toEqual(load.rules);
  });
});
