import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, type Template } from '../../tools/local/packaged.ts';
import { runInGroup } from '../../tools/local/processGroup.ts';

// Issue 17's done-when for `npm run new:function`, on what a contributor has: a clean clone of HEAD (its
// node_modules linked), scaffolded once, typechecked once and packaged once.
const run = promisify(execFile);
const NAME = 'onHealthEvent';
/**
 * What the scaffold may change: its own folder and fixtures, the registry, the stages, docs/ and the
 * member templates of an organization's stage (deploy/org/, generated).
 */
const ALLOWED = [
  `functions/${NAME}/`,
  'functions/index.ts',
  'config/stages.ts',
  `events/${NAME}/`,
  'docs/',
  'deploy/org/',
];

let clone: string;
let changed: string[];
let typecheck: { code: number; out: string };
let template: Template;

/**
 * A command in the clone: its exit code and output, never a throw, so the test shows what failed. Killed
 * with its whole process group (npx, osls, esbuild's service) after `timeoutMs`, and said so.
 */
async function inClone(
  command: string,
  args: string[],
  timeoutMs = 480_000,
): Promise<{ code: number; out: string }> {
  const { code, out, hung } = await runInGroup(command, args, {
    cwd: clone,
    env: {
      ...process.env,
      // As under npx and npm run: the clone's tools first.
      PATH: `${join(clone, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
      AWS_ENDPOINT_URL: '',
      SLS_TELEMETRY_DISABLED: '1',
    },
    timeoutMs,
  });
  const killed = hung
    ? `\n${command} ${args.join(' ')}: still running after ${timeoutMs / 1000} s, killed`
    : '';
  return { code: code ?? 1, out: out + killed };
}

beforeAll(async () => {
  // Arrange: the committed tree at HEAD, as `git clone` gives it.
  clone = mkdtempSync(join(tmpdir(), 'ops-autopilot-scaffold-'));
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: ROOT })).stdout.trim();
  await run('git', ['clone', '--quiet', '--no-checkout', ROOT, clone]);
  await run('git', ['fetch', '--quiet', ROOT, head], { cwd: clone });
  await run('git', ['checkout', '--quiet', head], { cwd: clone });
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  // Act
  const scaffold = await inClone('npm', ['run', '--silent', 'new:function', '--', NAME]);
  if (scaffold.code !== 0) throw new Error(`new:function failed:\n${scaffold.out}`);
  const status = await inClone('git', ['status', '--porcelain', '--untracked-files=all']);
  changed = status.out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.slice(3))
    // The linked node_modules is the harness's, not the scaffold's (a clone has it ignored or linked).
    .filter((p) => p !== 'node_modules');
  const out = join(clone, '.serverless');
  // Independent of each other: the typecheck waits on the disk while the packaging bundles, and back.
  const [checked, packaged] = await Promise.all([
    // The clone's own tsc and osls (what npx would find in it), started directly: npx costs ~1 s of CPU a run.
    inClone(join(clone, 'node_modules', '.bin', 'tsc'), ['--noEmit']),
    inClone(join(clone, 'node_modules', '.bin', 'sls'), ['package', '--stage', 'dev', '--package', out]),
  ]);
  typecheck = checked;
  if (packaged.code !== 0) throw new Error(`sls package failed:\n${packaged.out}`);
  template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 1_500_000);

afterAll(() => {
  if (clone) rmSync(clone, { recursive: true, force: true });
});

const resource = (id: string) => template.Resources[id];

describe(`npm run new:function -- ${NAME} on a clean clone`, () => {
  it('changes nothing outside its folder, its fixtures, the registry, config/stages.ts, docs/ and deploy/org/', () => {
    // Assert
    expect(changed).toEqual(
      expect.arrayContaining([
        `functions/${NAME}/handler.ts`,
        'functions/index.ts',
        // Its rule is forwarded from member accounts: the org stage's member rules hold it.
        'deploy/org/org/member-rules.json',
      ]),
    );
    expect(
      changed.filter((p) => !ALLOWED.some((a) => (a.endsWith('/') ? p.startsWith(a) : p === a))),
    ).toEqual([]);
  });

  it('leaves a tree that typechecks', () => {
    // Assert
    expect(typecheck.out).toBe('');
    expect(typecheck.code).toBe(0);
  });

  it('packages the function with its EventBridge rule, its own role and its self-alarms', () => {
    // Act
    const fn = resource('OnHealthEventLambdaFunction');
    const rules = Object.values(template.Resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && r.Properties.Name === 'ops-autopilot-dev-on-health-event',
    );
    const alarmNames = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties.AlarmName);
    // Assert
    expect(fn?.Type).toBe('AWS::Lambda::Function');
    expect(fn?.Properties.FunctionName).toBe(`ops-autopilot-dev-${NAME}`);
    expect(fn?.Properties.Role).toEqual({ 'Fn::GetAtt': ['OnHealthEventRole', 'Arn'] });
    expect(resource('OnHealthEventRole')?.Type).toBe('AWS::IAM::Role');
    expect(resource('OnHealthEventRole')?.Properties.RoleName).toBe(
      'ops-autopilot-dev-on-health-event-us-east-1',
    );
    expect(rules).toHaveLength(1);
    expect(JSON.stringify(rules[0]?.Properties.Targets)).toContain('OnHealthEventLambdaFunction');
    expect((rules[0]?.Properties.EventPattern as { source?: unknown } | undefined)?.source).toEqual([
      'aws.health',
    ]);
    expect(alarmNames).toEqual(
      expect.arrayContaining([
        `ops-autopilot-dev-${NAME}-errors`,
        `ops-autopilot-dev-${NAME}-throttles`,
        'ops-autopilot-dev-on-health-event-rule-failed-invocations',
      ]),
    );
  });
});
