import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { ROOT, SLS, type Template, withSlsPath } from '../../tools/local/packaged.ts';
import { runInGroup } from '../../tools/local/processGroup.ts';
import { packagedOnce } from './packagedOnce.ts';

/**
 * Deploying, as docs/DEPLOY.md walks through it: the deployer policy, the outputs it shows, the rule it
 * adds with its runbook's permissions, the state table kept on remove, one readable message for a bad
 * configuration, and the runbook documents checked at deploy time only: the harness the
 * test/package/deploy*.test.ts files share.
 */

export interface Run {
  code: number | null;
  out: string;
}

/**
 * `sls <args>` in `cwd`, stdout and stderr together, killed with its group after 3 minutes: the osls
 * `npx sls` would find there (a copy's node_modules is the repository's), started directly, since npx
 * costs about 1.1 s of CPU a run before osls starts.
 */
export function sls(cwd: string, args: string[]): Promise<Run> {
  return runInGroup(SLS, args, {
    cwd,
    env: withSlsPath({ ...process.env, AWS_ENDPOINT_URL: '', SLS_TELEMETRY_DISABLED: '1' }),
    timeoutMs: 180_000,
  });
}

export const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** The repository as a user has it (tracked and new files, node_modules linked), to edit its config. */
export function copyOfRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-copy-'));
  copies.push(dir);
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)));
  for (const file of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

export function editStages(dir: string, edit: (source: string) => string): void {
  const path = join(dir, 'config', 'stages.ts');
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error('the edit changed nothing in config/stages.ts');
  writeFileSync(path, after);
}

export const deployDoc = readFileSync(join(ROOT, 'docs', 'DEPLOY.md'), 'utf8');

/** The fenced block of a given language that follows a heading of docs/DEPLOY.md. */
export function blockAfter(heading: string, language: string): string {
  const from = deployDoc.indexOf(heading);
  const open = deployDoc.indexOf(`\`\`\`${language}\n`, from);
  if (from === -1 || open === -1) throw new Error(`no ${language} block after "${heading}" in DEPLOY.md`);
  const start = open + language.length + 4;
  return deployDoc.slice(start, deployDoc.indexOf('\n```', start));
}

export type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };
export const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

export function roleStatements(template: Template, roleId: string): Statement[] {
  const policies = (template.Resources[roleId]?.Properties.Policies ?? []) as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

export const templateIn = (dir: string): Template & { Outputs: Record<string, unknown> } =>
  JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));

/** The dev stage as packaged once per run (packagedOnce.ts); set by packagedDevBeforeAll(). */
export let dev: { run: Run; template: Template & { Outputs: Record<string, unknown> } };

/**
 * Called by the files that read `dev`, at their top: the others (a bad configuration, change calendars,
 * runbook documents) package copies of their own and need not build, or wait for, the dev package.
 */
export function packagedDevBeforeAll(): void {
  beforeAll(async () => {
    const packaged = await packagedOnce('dev');
    dev = { run: { code: 0, out: packaged.out }, template: templateIn(packaged.dir) };
  }, 300_000);
}

export const POLICY_TEMPLATE = join(ROOT, 'deploy', 'deployer-policy.template.json');
