/**
 * npm run demo: the product's main job, locally. Starts moto_server on a free loopback port, creates
 * the stack's stateful resources there, packages the stack offline, routes every file under events/
 * through the packaged EventBridge rules, invokes the function each reaches, and prints what it
 * decided, did and paged. moto has no SSM Automation: runbook starts are shown as not executable
 * locally, never faked.
 */

import { BackupClient, DescribeBackupJobCommand, StartBackupJobCommand } from '@aws-sdk/client-backup';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import Table from 'cli-table3';
import { registry } from '#functions/index.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import { listFixtures, loadFixture } from '../tools/local/events.ts';
import { seedFleet, seedPublicImage } from '../tools/local/fleet.ts';
import { makeContext } from '../tools/local/lambda.ts';
import { SAMPLE_EXECUTION, seedSampleExecution } from '../tools/local/localSamples.ts';
import { createLocalStack, type DeliveredPage } from '../tools/local/localStack.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../tools/local/moto.ts';
import { eventRules, packageStack, scheduledFunctions } from '../tools/local/packaged.ts';
import { ROUTED_BUT_REFUSED } from '../tools/local/routedButRefused.ts';
import { installRouter, isEventBridgeEvent } from '../tools/local/routing.ts';
import { demoModeLine } from './demo/mode.ts';

type Handler = (event: never, context: Context) => Promise<unknown>;

const NOT_LOCAL = 'NotExecutableLocally';

/** Functions the demo can invoke, by their serverless.yml names. */
/** Every registered function, loaded when an event reaches it. */
const handlers: Record<string, () => Promise<Handler>> = Object.fromEntries(
  registry.map((entry) => [entry.name, entry.loadHandler as () => Promise<Handler>]),
);

/** The instance id the alarm fixtures name; the demo plays it as a seeded instance moto knows. */
const FIXTURE_INSTANCE = 'i-0abc1234def567890';
const REMEDIABLE = 'web server (opted in to remediation)';
/** The AMI the AMI-share fixtures name; the demo plays it as a public AMI it makes in moto. */
const FIXTURE_IMAGE = 'ami-0a1b2c3d4e5f67890';

/** A small fleet with one instance per case the idle rule distinguishes (48 h of hourly data). */

/** The account and region an event names in its envelope; a manual payload has none (the demo's own). */
function siteOf(event: unknown): { account: string; region: string } {
  const { account, region } = (event ?? {}) as { account?: unknown; region?: unknown };
  return typeof account === 'string' && typeof region === 'string'
    ? { account, region }
    : { account: '123456789012', region: 'us-east-1' };
}

async function seedDemoFleet() {
  const optIn = { 'ops:auto-stop': 'true' };
  const quiet = { hours: 48, value: 1.2 };
  const quietNet = { hours: 48, value: 40_000 };
  return seedFleet([
    {
      name: 'idle build box',
      tags: { ...optIn, Name: 'build-box' },
      instanceType: 'm5.large',
      cpu: quiet,
      network: quietNet,
    },
    {
      name: 'idle sandbox',
      tags: { ...optIn, Name: 'sandbox' },
      instanceType: 't3.medium',
      cpu: quiet,
      network: quietNet,
    },
    {
      name: 'busy api',
      tags: { ...optIn, Name: 'api' },
      cpu: { hours: 48, value: 3, peakHours: [5], peak: 71 },
      network: quietNet,
    },
    {
      name: 'chatty worker',
      tags: { ...optIn, Name: 'worker' },
      cpu: quiet,
      network: { hours: 48, value: 90_000_000 },
    },
    { name: 'new instance', tags: { ...optIn, Name: 'new' }, cpu: { hours: 6, value: 1 }, network: quietNet },
    {
      // The instance the alarm fixtures are about: opted in to remediation, busy, so never idle.
      name: REMEDIABLE,
      tags: { 'ops:auto-remediate': 'true', Name: 'web-1' },
      cpu: { hours: 48, value: 60 },
      network: { hours: 48, value: 90_000_000 },
    },
    {
      name: 'opted out',
      tags: { 'ops:auto-stop': 'false', Name: 'db-replica' },
      cpu: quiet,
      network: quietNet,
    },
    {
      name: 'asg member',
      tags: { ...optIn, 'aws:autoscaling:groupName': 'web' },
      cpu: quiet,
      network: quietNet,
    },
    { name: 'spot', tags: optIn, spot: true, cpu: quiet, network: quietNet },
    {
      name: 'protected',
      tags: { ...optIn, Name: 'ledger' },
      disableApiStop: true,
      cpu: quiet,
      network: quietNet,
    },
    { name: 'untagged', tags: { Name: 'legacy' }, cpu: quiet, network: quietNet },
  ]);
}

/**
 * moto has no SSM Automation, so no runbook really starts here: the demo records the sample's execution
 * as onAlarm would have after starting it for a paged alarm, so its failure fixtures escalate and its
 * success notifies; `unknown-execution-failed.json` names an execution with no record, and is ignored.
 */
async function seedRunbookExecution(): Promise<void> {
  const pageId = await seedSampleExecution();
  console.log(
    `runbook execution ${SAMPLE_EXECUTION} recorded as started by onAlarm for web-status-check (its page ${pageId})`,
  );
}

interface VerdictLine {
  instanceId: string;
  decision: string;
  reason: string;
}

function printVerdicts(title: string, verdicts: VerdictLine[], names: Map<string, string>): void {
  console.log(`\n${title}`);
  for (const v of verdicts) {
    console.log(
      `  ${v.decision.padEnd(8)} ${v.instanceId} ${(names.get(v.instanceId) ?? '').padEnd(15)} ${v.reason}`,
    );
  }
}

interface Row {
  event: string;
  fn: string;
  decision: string;
  actions: string;
  pages: string;
  unexpected: boolean;
}

function describeOutcomes(outcomes: Outcome[]): string {
  if (outcomes.length === 0) return 'none';
  return outcomes
    .map((o) => {
      if (o.error?.name === NOT_LOCAL) return `${o.kind}: not executable locally`;
      return `${o.kind}: ${o.status}${o.reason ? ` (${o.reason})` : ''}`;
    })
    .join('; ');
}

function describeResult(value: unknown): { decision: string; actions: string } {
  const r = value as {
    outcomes?: Outcome[];
    notes?: { reason: string }[];
    signal?: { severity: string };
    dryRun?: boolean;
    findings?: { counts?: Record<string, number>; decision?: unknown };
  };
  const notes = (r.notes ?? []).map((n) => n.reason).join(', ');
  const counts = r.findings?.counts;
  const summary = counts
    ? `${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}${r.dryRun ? ' (dry-run)' : ''}`
    : // A function whose findings name its decision (e.g. onRunbookResult's escalate, ignored) says it.
      `${r.signal?.severity ?? ''}${typeof r.findings?.decision === 'string' ? ` ${r.findings.decision}` : ''}`;
  return {
    decision: `${summary}${notes ? ` [${notes}]` : ''}`.trim() || 'acted',
    actions: describeOutcomes(r.outcomes ?? []),
  };
}

/**
 * Column widths that fit `available` characters: each column gets what it needs, and the widest share
 * what is left equally (water-filling), so short columns are never squeezed for a long one.
 */
function fitWidths(needed: number[], available: number): number[] {
  const widths = needed.map(() => 0);
  let left = available;
  let open = needed.map((_, i) => i);
  while (open.length > 0) {
    const share = Math.floor(left / open.length);
    const fits = open.filter((i) => (needed[i] ?? 0) <= share);
    if (fits.length === 0) {
      for (const i of open) widths[i] = Math.max(share, 8);
      break;
    }
    for (const i of fits) {
      widths[i] = needed[i] ?? 0;
      left -= widths[i] ?? 0;
    }
    open = open.filter((i) => !fits.includes(i));
  }
  return widths;
}

/** The run as a table as wide as the terminal (120 when not a terminal); long cells wrap, none is cut. */
function table(rows: Row[]): string {
  const head = ['event', 'function', 'decision', 'actions', 'pages'];
  const cells = rows.map((r) => [r.event, r.fn, r.decision, r.actions, r.pages]);
  // cli-table3 widths include one space of padding each side; the borders take one character per column and one more.
  const needed = head.map((h, i) => 2 + Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const columns = process.stdout.columns || 120;
  const widths = fitWidths(needed, columns - head.length - 1);
  const out = new Table({
    head,
    colWidths: widths,
    wordWrap: true,
    wrapOnWordBoundary: true,
    style: { head: [], border: [] },
  });
  out.push(...cells.map((c) => c.map((v, i) => breakLongWords(v, (widths[i] ?? 10) - 2))));
  return out.toString();
}

/** cli-table3 cuts a word longer than its column; this breaks it into lines instead (paths, ARNs). */
function breakLongWords(text: string, width: number): string {
  return text.replace(/\S+/g, (word) =>
    word.length <= width ? word : (word.match(new RegExp(`.{1,${width}}`, 'g')) ?? [word]).join('\n'),
  );
}

async function main(): Promise<number> {
  let moto: Moto;
  try {
    moto = await startMoto();
  } catch (error) {
    console.error(`demo: cannot start the local AWS emulator.\n${(error as Error).message}`);
    return 2;
  }
  try {
    useMotoEnvironment(moto.endpoint);
    console.log(`moto_server on ${moto.endpoint}`);
    const stack = await createLocalStack('ops-autopilot-demo');
    process.env.STATE_TABLE_NAME = stack.tableName;
    process.env.PAGE_TOPIC_ARN = stack.topicArn;
    process.env.STAGE = process.env.STAGE ?? 'dev';
    // Live mode against the emulator by default, so every executor really runs; nothing here reaches
    // AWS. The first line says so, since the deployed dev stage is dry-run.
    console.log(demoModeLine(process.env.STAGE, process.env.DRY_RUN));
    process.env.DRY_RUN = process.env.DRY_RUN ?? 'false';
    process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';

    const ssm = mockClient(SSMClient);
    // The kill switch is read from moto (no parameter: the stage decides); only the runbook start is mocked.
    // Imported here, after the log level is set: it loads the runtime's logger, which reads it once.
    const { killSwitchFromEmulator } = await import('../tools/local/killSwitch.ts');
    killSwitchFromEmulator(ssm);
    ssm
      .on(StartAutomationExecutionCommand)
      .rejects(
        Object.assign(new Error('moto has no SSM Automation; this start was not sent'), { name: NOT_LOCAL }),
      );

    // moto has no AWS Backup jobs either: a failed backup pages saying its job could not be read back,
    // so no retry is started on the event's word.
    const noBackupJobs = Object.assign(new Error('moto has no AWS Backup jobs; nothing was sent'), {
      name: NOT_LOCAL,
    });
    mockClient(BackupClient)
      .on(DescribeBackupJobCommand)
      .rejects(noBackupJobs)
      .on(StartBackupJobCommand)
      .rejects(noBackupJobs);

    console.log('packaging the stack offline (sls package) to read its EventBridge rules...');
    const packaged = await packageStack(process.env.STAGE);
    const router = await installRouter(eventRules(packaged.template));
    const scheduled = scheduledFunctions(packaged.template);
    const fleet = await seedDemoFleet();
    const names = new Map(
      Object.entries(fleet.ids).flatMap(([name, ids]) => ids.map((id) => [id, name] as const)),
    );
    const verdictRuns: { title: string; verdicts: VerdictLine[] }[] = [];
    const keepVerdicts = (title: string, result: unknown) => {
      const verdicts = (result as { findings?: { verdicts?: VerdictLine[] } }).findings?.verdicts;
      if (verdicts) verdictRuns.push({ title, verdicts });
    };

    // moto makes its own instance ids: the fixtures' instance becomes the seeded, opted-in web server,
    // so the runbook rules reach their scope check and the (mocked) start.
    const remediable = fleet.ids[REMEDIABLE]?.[0] ?? FIXTURE_INSTANCE;
    console.log(
      `alarm fixtures' instance ${FIXTURE_INSTANCE} is played as the seeded ${REMEDIABLE}: ${remediable}`,
    );
    const publicImage = await seedPublicImage(remediable);
    console.log(
      `AMI fixtures' image ${FIXTURE_IMAGE} is played as a public AMI made in moto: ${publicImage}`,
    );
    const retarget = (event: unknown): unknown =>
      JSON.parse(
        JSON.stringify(event).replaceAll(FIXTURE_INSTANCE, remediable).replaceAll(FIXTURE_IMAGE, publicImage),
      );
    await seedRunbookExecution();
    // The idle scan first: the cost anomaly above the stop threshold stops the same opted-in idle
    // instances (one shared hourly budget), and would otherwise leave the scan nothing to show.
    const first = (f: string) => (f.startsWith('stopIdleInstances/') ? 0 : 1);
    const fixtures = listFixtures().sort((a, b) => first(a) - first(b) || a.localeCompare(b));
    // The same event delivered twice, as EventBridge may: the second delivery must change nothing.
    const AGAIN = ' (same event delivered again)';
    const replay = [...fixtures, `onAlarm/metric-math-alarm.json${AGAIN}`];
    const rows: Row[] = [];
    const allPages: DeliveredPage[] = [];

    for (const name of replay) {
      const fixture = name.replace(AGAIN, '');
      const event = retarget(loadFixture(fixture)) as Record<string, unknown>;
      const home = fixture.split('/')[0] as string;
      const invalid = fixture.includes('/invalid/');
      const isEvent = isEventBridgeEvent(event);
      const reached = isEvent ? await router.route(event) : [];
      const bySchedule = isEvent && event['detail-type'] === 'Scheduled Event' && scheduled.includes(home);
      // Manual payloads and invalid fixtures go straight to their function, as `sls invoke` would.
      const direct = (!isEvent || invalid || bySchedule) && handlers[home] !== undefined;
      const targets = reached.length > 0 ? reached : direct ? [home] : [];
      if (targets.length === 0) {
        rows.push({
          event: name,
          fn: '-',
          decision: 'not routed by any rule',
          actions: '-',
          pages: '0',
          unexpected: false,
        });
        continue;
      }
      for (const fn of targets) {
        const load = handlers[fn];
        if (!load) {
          rows.push({
            event: name,
            fn,
            decision: 'function not in this demo',
            actions: '-',
            pages: '-',
            unexpected: true,
          });
          continue;
        }
        const handler = await load();
        let decision: string;
        let actions: string;
        let unexpected = false;
        try {
          // The function runs where the event comes from (AWS's own samples keep their account and
          // region), as it would deployed there: each function refuses another account's events.
          const result = await handler(structuredClone(event) as never, makeContext(fn, siteOf(event)));
          ({ decision, actions } = describeResult(result));
          keepVerdicts(`${fn} on ${name}`, result);
        } catch (error) {
          const e = error as Error & { result?: { outcomes: Outcome[] } };
          if (e.name === 'InvalidEventError') {
            decision = `rejected: ${e.message.replace(/^\w+: invalid event: /, '')}`;
            actions = 'none';
            // A routed AWS sample the schema refuses for a known reason is listed with that reason.
            unexpected = !invalid && !(fixture in ROUTED_BUT_REFUSED);
          } else if (e.name === 'ActionFailedError' && e.result) {
            ({ decision, actions } = describeResult(e.result));
            keepVerdicts(`${fn} on ${name}`, e.result);
            unexpected = e.result.outcomes.some((o) => o.status === 'failed' && o.error?.name !== NOT_LOCAL);
          } else {
            decision = `error: ${e.name}: ${e.message}`;
            actions = '-';
            unexpected = true;
          }
        }
        // Removed once read: kept, a page reappears after SQS's 30 s visibility timeout on a later row.
        const pages = await stack.readPages(true);
        allPages.push(...pages);
        rows.push({
          event: name,
          fn,
          decision,
          actions,
          pages: pages.length === 0 ? '0' : pages.map((p) => p.subject).join(' / '),
          unexpected,
        });
      }
    }

    console.log(`\n${table(rows)}\n`);
    for (const run of verdictRuns) printVerdicts(run.title, run.verdicts, names);
    console.log(`${allPages.length} page(s) delivered to the topic's SQS subscriber.`);
    // One page of each kind, as the on-call person reads it.
    const kinds = new Set<string>();
    for (const page of allPages) {
      const kind = `${page.attributes.kind}/${page.attributes.notice}`;
      if (kinds.has(kind)) continue;
      kinds.add(kind);
      console.log(`\n---- ${kind} ----\nSubject: ${page.subject}\n\n${page.body}`);
    }
    console.log('');
    const unexpected = rows.filter((r) => r.unexpected);
    if (unexpected.length > 0) {
      console.error(
        `demo: ${unexpected.length} unexpected failure(s): ${unexpected.map((r) => r.event).join(', ')}`,
      );
      return 1;
    }
    return 0;
  } finally {
    await moto.stop();
  }
}

process.exitCode = await main();
