import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInGroup } from './processGroup.ts';

const run = promisify(execFile);
export const ROOT = join(import.meta.dirname, '..', '..');

const BIN = join(ROOT, 'node_modules', '.bin');
/**
 * The repository's own osls, the one `npx sls` finds, started directly: npx boots npm's CLI first
 * (about 0.5 s of CPU and seconds of wall time on a busy machine per run, for a file that runs sls a
 * dozen times). Its folder leads PATH, as under npx.
 */
export const SLS = join(BIN, 'sls');
export const withSlsPath = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...env,
  PATH: `${BIN}:${env.PATH ?? ''}`,
});

export interface CfnResource {
  Type: string;
  Properties: Record<string, unknown> & { [key: string]: unknown };
  DependsOn?: string[];
  Condition?: string;
}
export interface Template {
  Resources: Record<string, CfnResource>;
}

export interface Packaged {
  dir: string;
  templatePath: string;
  template: Template;
}

/** `sls package` offline into a fresh folder, as CI and a user would run it, with optional stage params. */
export async function packageStack(stage = 'dev', params: Record<string, string> = {}): Promise<Packaged> {
  const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-package-'));
  const paramArgs = Object.entries(params).map(([k, v]) => `--param=${k}=${v}`);
  await run(SLS, ['package', '--stage', stage, '--package', dir, ...paramArgs], {
    cwd: ROOT,
    env: withSlsPath({ ...process.env, AWS_ENDPOINT_URL: '', SLS_TELEMETRY_DISABLED: '1' }),
    maxBuffer: 10 * 1024 * 1024,
  });
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  return { dir, templatePath, template: JSON.parse(readFileSync(templatePath, 'utf8')) as Template };
}

export interface SlsRun {
  /** The exit code; null when the run was killed. */
  code: number | null;
  /** stdout and stderr together. */
  out: string;
  /** Still running after the time allowed: killed, with everything it started. */
  hung: boolean;
}

/**
 * `sls <args>` in the repository (as `npx sls` runs it), bounded: a run still going after `timeoutMs` is
 * killed with its whole process group (osls, esbuild's service) and reported as hung, so a test fails instead of
 * waiting forever.
 */
export function runSls(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 90_000): Promise<SlsRun> {
  return runInGroup(SLS, args, {
    cwd: ROOT,
    env: withSlsPath({ ...env, SLS_TELEMETRY_DISABLED: '1' }),
    timeoutMs,
  });
}

export interface PackagedRule {
  logicalId: string;
  name: string;
  functionName: string;
  pattern: Record<string, unknown>;
}

/** Lambda logical ids to the functions' serverless.yml names (`ops-autopilot-dev-onAlarm` -> `onAlarm`). */
function functionNamesById(template: Template): Map<string, string> {
  const names = new Map<string, string>();
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') {
      names.set(id, String(r.Properties.FunctionName).replace(/^ops-autopilot-[a-z0-9]+-/, ''));
    }
  }
  return names;
}

/** The event-pattern rules of a packaged template, each with the function (by its serverless.yml name) it targets. */
export function eventRules(template: Template): PackagedRule[] {
  const functionNames = functionNamesById(template);
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern !== undefined)
    .flatMap(([logicalId, r]) => {
      // Function targets only: a rule forwarding to another region's bus invokes no function here.
      const targets = (r.Properties.Targets as { Arn: { 'Fn::GetAtt'?: [string, string] } }[]).filter(
        (t): t is { Arn: { 'Fn::GetAtt': [string, string] } } => t.Arn['Fn::GetAtt'] !== undefined,
      );
      return targets.map((t) => ({
        logicalId,
        name: String(r.Properties.Name),
        functionName: functionNames.get(t.Arn['Fn::GetAtt'][0]) ?? 'unknown',
        pattern: r.Properties.EventPattern as Record<string, unknown>,
      }));
    });
}

/** Functions invoked by a schedule rule (no event pattern), by their serverless.yml names. */
export function scheduledFunctions(template: Template): string[] {
  const names = functionNamesById(template);
  return Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties.ScheduleExpression !== undefined)
    .flatMap((r) =>
      (r.Properties.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[]).map(
        (t) => names.get(t.Arn['Fn::GetAtt'][0]) ?? 'unknown',
      ),
    );
}

/** The stack's CloudWatch alarms on itself, by logical id. */
export function selfAlarms(template: Template): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
}

/**
 * Whether CloudWatch would put this alarm in ALARM after these per-period values (oldest first,
 * `undefined` for a period without data): "M out of N", M = DatapointsToAlarm (default N), over the
 * last N = EvaluationPeriods periods. Only what this stack's alarms use is supported.
 */
export function wouldAlarm(alarm: CfnResource, values: (number | undefined)[]): boolean {
  const p = alarm.Properties as {
    ComparisonOperator: string;
    Threshold: number;
    EvaluationPeriods: number;
    DatapointsToAlarm?: number;
    TreatMissingData?: string;
  };
  if (p.ComparisonOperator !== 'GreaterThanThreshold' || p.TreatMissingData !== 'notBreaching') {
    throw new Error(`wouldAlarm does not model ${p.ComparisonOperator} with ${p.TreatMissingData}`);
  }
  const window = values.slice(-p.EvaluationPeriods);
  const breaching = window.filter((v) => v !== undefined && v > p.Threshold).length;
  return breaching >= (p.DatapointsToAlarm ?? p.EvaluationPeriods);
}

/** The logical id of a function (by its registry name) in a packaged template. */
export function functionLogicalId(template: Template, name: string): string {
  const id = [...functionNamesById(template)].find(([, fn]) => fn === name)?.[0];
  if (!id) throw new Error(`no function ${name} in the template`);
  return id;
}

export interface DashboardWidget {
  type: string;
  properties: { title?: string; metrics?: unknown[]; alarms?: string[] };
}

type DashboardSub = { 'Fn::Sub': [string, Record<string, unknown>] };

/**
 * The dashboard's widgets as CloudFormation will substitute them, and the values it substitutes. A
 * stack that forwards global events (condition ForwardGlobalEvents) gets a body with its forward rules.
 */
export function dashboardOf(
  template: Template,
  { forwardGlobalEvents = false }: { forwardGlobalEvents?: boolean } = {},
): { body: { widgets: DashboardWidget[] }; values: Record<string, unknown>; source: string } {
  const body = template.Resources.Dashboard?.Properties.DashboardBody as
    | DashboardSub
    | { 'Fn::If': [string, DashboardSub, DashboardSub] }
    | undefined;
  if (!body) throw new Error('no dashboard in the template');
  let sub: DashboardSub;
  if ('Fn::If' in body) {
    const [condition, whenTrue, whenFalse] = body['Fn::If'];
    if (condition !== 'ForwardGlobalEvents') throw new Error(`dashboardOf does not model ${condition}`);
    sub = forwardGlobalEvents ? whenTrue : whenFalse;
  } else {
    sub = body;
  }
  const [source, values] = sub['Fn::Sub'];
  return { body: JSON.parse(source) as { widgets: DashboardWidget[] }, values, source };
}
