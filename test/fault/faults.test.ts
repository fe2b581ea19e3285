import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  EC2Client,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { SSMClient, StartAutomationExecutionCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LambdaHandler, registry } from '#functions/index.ts';
import type { Outcome } from '#shared/domain/outcome.ts';
import { loadAwsClients } from '../../tools/awsClients.ts';
import { setDryRun } from '../../tools/local/emulator.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { type FaultProxy, type ProxiedCall, startFaultProxy } from '../../tools/local/faultProxy.ts';
import { DEFAULT_AMI, seedFleet } from '../../tools/local/fleet.ts';
import { killSwitchFromEmulator } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';
import { createLocalStack, type DeliveredPage, type LocalStack } from '../../tools/local/localStack.ts';
import { type Moto, useMotoEnvironment } from '../../tools/local/moto.ts';
import { claimSharedMoto } from '../support/sharedMoto.ts';

/**
 * Every registered function, its sample event, against moto behind a proxy that fails 30 % of the
 * SDK's calls (throttles, 500/503, timeouts, lost responses), on a live stage. Lambda's asynchronous
 * retries are emulated: a delivery that throws is invoked again with the same event after Lambda's
 * one and two minute waits (the clock is moved on, so the idempotency layer sees what it would see),
 * up to the function's maximumRetryAttempts, then it lands in the failure queue with its error.
 */

/** Fixed, so a failure replays exactly; FAULT_SEED tries another sequence locally. */
const SEED = Number(process.env.FAULT_SEED ?? 20_261_122);
const FAULT_RATE = 0.3;
/** Bounded: about a minute per 100 deliveries at this rate (the throttles' backoff dominates). */
const EVENTS_PER_FUNCTION = 30;
/** The SDK's request timeout here (production: 5 s); a held request is dropped after HOLD_MS. */
const TEST_REQUEST_TIMEOUT_MS = 250;
/**
 * The SDK's waits between retries, scaled down as the request timeout is (5 s to 250 ms). Unscaled they
 * were most of this file's time (throttle backoff: base 1 s, doubling, up to 20 s). How many retries a
 * call gets and its client's retry quota do not depend on the wait, so the same calls are retried or
 * given up on, in the same order.
 */
const BACKOFF_SCALE = 1 / 20;
const HOLD_MS = 1_000;
const STACK = 'ops-autopilot-faults';
/** Lambda's waits before its first and second retry of an asynchronous invocation. */
const LAMBDA_RETRY_WAITS_MS = [60_000, 120_000];

/** Calls that change a resource: AWS may be asked again (a retry), it must carry each out once. */
// CreateTags is left out: it sets a tag to a value, and setting it again to the same value changes nothing.
const MUTATING_OPERATIONS = new Set([
  'StopInstances',
  'RevokeSecurityGroupIngress',
  'PutPublicAccessBlock',
  'StartLogging',
]);

// moto has no SSM Automation: the runbook start is answered here, per ClientToken, as SSM does.
const ssm = mockClient(SSMClient);

let moto: Moto;
let proxy: FaultProxy;
let stack: LocalStack;
const ec2 = () => new EC2Client({ endpoint: moto.endpoint });

let remediable: string | undefined;

type Json = Record<string, unknown> & { id?: string; detail?: Record<string, unknown> };

/**
 * How to make event i of a function its own incident, with the resources it acts on in moto. A
 * function without an entry runs its sample with only the event id changed (its deliveries may then
 * share one incident, and only the checks that hold for any events apply).
 */
const variants: Record<string, (event: Json, i: number) => Promise<Json>> = {
  async onAlarm(event, i) {
    // One opted-in instance for every alarm: each alarm is its own incident, with its own start limit.
    remediable ??= await ec2()
      .send(
        new RunInstancesCommand({
          ImageId: DEFAULT_AMI,
          InstanceType: 't3.micro',
          MinCount: 1,
          MaxCount: 1,
          TagSpecifications: [
            { ResourceType: 'instance', Tags: [{ Key: 'ops:auto-remediate', Value: 'true' }] },
          ],
        }),
      )
      .then((res) => res.Instances?.[0]?.InstanceId as string);
    const alarmName = `web-cpu-fault-${i}`;
    const detail = event.detail as {
      alarmName: string;
      configuration: { metrics: { metricStat: { metric: { dimensions: Record<string, string> } } }[] };
    };
    detail.alarmName = alarmName;
    const metric = detail.configuration.metrics[0]?.metricStat.metric;
    if (metric) metric.dimensions = { InstanceId: remediable as string };
    event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`];
    return event;
  },
  async onCloudTrail(event, i) {
    const client = ec2();
    const { GroupId } = await client.send(
      new CreateSecurityGroupCommand({ GroupName: `fault-${i}`, Description: 'fault test' }),
    );
    await client.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const detail = event.detail as { eventID: string; requestParameters: { groupId: string } };
    detail.eventID = `bf6054fa-e471-4cd3-8658-${String(i).padStart(12, '0')}`;
    detail.requestParameters.groupId = GroupId as string;
    return event;
  },
  async stopIdleInstances(_sample, i) {
    // The scheduled scan, live, with one more idle opted-in instance to stop each time.
    await seedFleet([
      {
        name: `idle-${i}`,
        tags: { 'ops:auto-stop': 'true' },
        cpu: { hours: 24, value: 1 },
        network: { hours: 24, value: 1_000 },
      },
    ]);
    return loadFixture<Json>('stopIdleInstances/scheduled-event.json');
  },
  async onCostAnomaly(event, i) {
    (event.detail as { anomalyId: string }).anomalyId =
      `12345678-abcd-ef12-3456-${String(i).padStart(12, '0')}`;
    return event;
  },
};

interface Delivery {
  fn: string;
  id: string;
  attempts: number;
  /** Where each attempt's calls start in the proxy's log, to read a failure's calls. */
  calls: number[];
  /** The last attempt's result, when one returned. */
  result?: { correlationId?: string; outcomes?: Outcome[]; signal?: { incidentKey?: string } };
  /** What the failure queue would hold: the last error's type and message. */
  failure?: { errorType: string; errorMessage: string };
}

/** Invokes like Lambda's asynchronous invocation: retries a throw after Lambda's waits, then gives up. */
async function invokeAsync(
  fn: string,
  handler: LambdaHandler,
  event: Json,
  label: string,
  maximumRetryAttempts: number,
): Promise<Delivery> {
  const delivery: Delivery = { fn, id: label, attempts: 0, calls: [] };
  for (let attempt = 0; attempt <= maximumRetryAttempts; attempt++) {
    if (attempt > 0) vi.setSystemTime(Date.now() + (LAMBDA_RETRY_WAITS_MS[attempt - 1] ?? 120_000));
    delivery.attempts++;
    delivery.calls.push(proxy.calls.length);
    try {
      delivery.result = (await handler(
        structuredClone(event),
        makeContext(`ops-autopilot-dev-${fn}`),
      )) as Delivery['result'];
      delete delivery.failure;
      return delivery;
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      delivery.failure = { errorType: e.name, errorMessage: e.message };
    }
  }
  return delivery;
}

/** The part of the SDK's standard retry strategy that picks the wait before a retry. */
interface RetryBackoff {
  computeNextBackoffDelay(retries: number): number;
}

/**
 * Sets every client the handlers use (tools/awsClients.ts finds them all) to time out fast and wait
 * between retries briefly, as production's 5 s and backoff would, scaled down.
 */
async function shortenRequestTimeouts(): Promise<void> {
  for (const { client } of await loadAwsClients()) {
    const handler = client.config.requestHandler as
      | { updateHttpClientConfig?(key: string, value: number): void }
      | undefined;
    handler?.updateHttpClientConfig?.('requestTimeout', TEST_REQUEST_TIMEOUT_MS);
    // The client's one strategy (built on first ask, then kept), whose retry quota its calls share.
    const { retryStrategy } = client.config as { retryStrategy?: () => Promise<unknown> };
    const strategy = (await retryStrategy?.()) as { retryBackoffStrategy?: RetryBackoff } | undefined;
    const backoff = strategy?.retryBackoffStrategy;
    if (!backoff) throw new Error('the SDK retry strategy has no retryBackoffStrategy to scale down');
    const unscaled = backoff.computeNextBackoffDelay.bind(backoff);
    backoff.computeNextBackoffDelay = (retries) => Math.floor(unscaled(retries) * BACKOFF_SCALE);
  }
}

const deliveries: Delivery[] = [];
let pages: DeliveredPage[] = [];
const executionsByToken = new Map<string, string>();

beforeAll(async () => {
  moto = await claimSharedMoto();
  proxy = await startFaultProxy({
    target: moto.endpoint,
    seed: SEED,
    rate: FAULT_RATE,
    holdMs: HOLD_MS,
    maxFaults: 5_000,
  });
  useMotoEnvironment(proxy.endpoint);
  process.env.STATE_TABLE_NAME = `${STACK}-state`;
  process.env.PAGE_TOPIC_ARN = `arn:aws:sns:us-east-1:123456789012:${STACK}-pages`;
  setDryRun(false);
  // The kill switch is read from moto, through the proxy and its faults: an unreadable switch makes
  // that delivery dry, as in production.
  killSwitchFromEmulator(ssm);
  ssm.on(StartAutomationExecutionCommand).callsFake((input: { ClientToken?: string }) => {
    const token = input.ClientToken ?? crypto.randomUUID();
    const id = executionsByToken.get(token) ?? `exec-${executionsByToken.size + 1}`;
    executionsByToken.set(token, id);
    return { AutomationExecutionId: id };
  });
  proxy.setEnabled(false);
  stack = await createLocalStack(STACK);
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });

  for (const entry of registry) {
    // Each function runs in its own Lambda environments: its own SDK clients, so its own retry quota.
    vi.resetModules();
    const handler = await entry.loadHandler();
    await shortenRequestTimeouts();
    const vary = variants[entry.name] ?? (async (event: Json) => event);
    const sample = loadFixture<Json>(entry.deployment.sampleFixture);
    const eventOf = async (i: number) => {
      const event = await vary(structuredClone(sample), i);
      // A manual payload has no envelope: it keeps none (its schema would refuse an id).
      if ('id' in event) event.id = `fault-${entry.name}-${i}`;
      return event;
    };
    for (let i = 0; i < EVENTS_PER_FUNCTION; i++) {
      const event = await eventOf(i);
      proxy.setEnabled(true);
      const label = `fault-${entry.name}-${i}`;
      deliveries.push(
        await invokeAsync(entry.name, handler, event, label, entry.deployment.maximumRetryAttempts),
      );
      proxy.setEnabled(false);
    }
  }
  vi.useRealTimers();
  pages = await stack.readPages();
  // The figures behind the assertions, for the log of a CI run.
  const handled = registry.map(
    (e) => `${e.name} ${deliveries.filter((d) => d.fn === e.name && d.result).length}/${EVENTS_PER_FUNCTION}`,
  );
  console.info(
    `faults ${replay()}: ${proxy.calls.length} calls, ${JSON.stringify(proxy.faultCounts())}; handled ${handled.join(', ')}; ${pages.length} pages`,
  );
  // FAULT_DUMP=<file> keeps every call, delivery and page of the run, to read a failure from.
  if (process.env.FAULT_DUMP) {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      process.env.FAULT_DUMP,
      JSON.stringify(
        {
          calls: proxy.calls.map(({ body, ...c }) => ({ ...c, body: body.slice(0, 300) })),
          deliveries,
          pages,
        },
        null,
        1,
      ),
    );
  }
}, 900_000);

afterAll(async () => {
  vi.useRealTimers();
  await proxy?.stop();
  await moto?.stop();
});

/**
 * Whether AWS (moto) did something for this call: it answered 2xx, and for a stop the instance was
 * running. Stopping a stopped instance succeeds and changes nothing, as in EC2
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StopInstances.html).
 */
function carriedOut(call: ProxiedCall): boolean {
  const status = call.upstreamStatus ?? 0;
  if (status < 200 || status > 299) return false;
  if (call.operation !== 'StopInstances') return true;
  return /<previousState>\s*<code>16<\/code>/.test(call.upstreamBody ?? '');
}

const correlationOf = (page: DeliveredPage) => /Correlation id: (\S+)/.exec(page.body)?.[1] ?? '';
const replay = () => `(seed ${SEED}: FAULT_SEED=${SEED} replays this run)`;
const pageIdsOf = (d: Delivery) =>
  (d.result?.outcomes ?? [])
    .filter((o) => o.kind === 'sns.page' && o.status === 'done')
    .map((o) => o.refs?.pageId);

describe(`every function under ${FAULT_RATE * 100} % faulty AWS calls`, () => {
  it('injected every kind of fault, at about the rate asked for', () => {
    // Arrange
    const counts = proxy.faultCounts();
    const faulty = proxy.calls.filter((c) => c.fault !== 'none').length;
    // Assert
    for (const [kind, n] of Object.entries(counts)) expect(n, `${kind} ${replay()}`).toBeGreaterThan(0);
    expect(faulty / proxy.calls.length, replay()).toBeGreaterThan(0.2);
    expect(faulty / proxy.calls.length, replay()).toBeLessThan(0.4);
  });

  it('ends every delivery: handled, or in the failure queue with the error that stopped it', () => {
    // Assert
    expect(deliveries).toHaveLength(registry.length * EVENTS_PER_FUNCTION);
    for (const d of deliveries) {
      if (d.result !== undefined) continue;
      expect(d.failure?.errorType, `${d.id} ${replay()}`).toMatch(/\w+/);
      expect(d.failure?.errorMessage.length, `${d.id} ${replay()}`).toBeGreaterThan(10);
    }
    for (const entry of registry) {
      const handled = deliveries.filter((d) => d.fn === entry.name && d.result !== undefined).length;
      // Not vacuous: retries carry many deliveries through. With faults this sustained the SDK's retry
      // quota runs dry and a delivery fails on its first unretried fault (measured: 60 to 100 % handled).
      expect(
        handled,
        `${entry.name} handled ${handled} of ${EVENTS_PER_FUNCTION} ${replay()}`,
      ).toBeGreaterThanOrEqual(EVENTS_PER_FUNCTION / 3);
    }
  });

  it('pages every handled incident whose plan pages, each page carrying its page id', () => {
    // Assert
    let checked = 0;
    for (const d of deliveries) {
      const planned = (d.result?.outcomes ?? []).some((o) => o.kind === 'sns.page');
      if (!planned || variants[d.fn] === undefined) continue;
      // Each event here is its own incident: it pages, on this attempt or an earlier one of its own.
      const delivered = pages.filter((p) => correlationOf(p) === d.id);
      expect(
        delivered.length,
        `${d.id} outcomes ${JSON.stringify(d.result?.outcomes)} ${replay()}`,
      ).toBeGreaterThanOrEqual(1);
      for (const id of pageIdsOf(d)) expect(delivered.map((p) => p.attributes.pageId)).toContain(id);
      checked++;
    }
    expect(checked, replay()).toBeGreaterThan(EVENTS_PER_FUNCTION);
    expect(pages.length, replay()).toBeGreaterThan(0);
    for (const page of pages) {
      expect(page.attributes.pageId, page.subject).toMatch(/\S/);
      expect(page.body).toContain(`Page id: ${page.attributes.pageId}`);
    }
  });

  it('sends copies of a page only under its one page id, never a second page for one incident', () => {
    // Arrange
    // One delivery may send two different pages (its incident's, and the rate guard's trip page when it
    // refuses that delivery's action): each of them, copies included, carries one page id.
    const byCorrelation = new Map<string, Set<string>>();
    for (const page of pages) {
      const correlation = `${correlationOf(page)} ${page.attributes.kind} ${page.attributes.notice}`;
      const ids = byCorrelation.get(correlation) ?? new Set<string>();
      ids.add(page.attributes.pageId ?? '');
      byCorrelation.set(correlation, ids);
    }
    // Assert
    for (const [correlation, ids] of byCorrelation) {
      expect([...ids], `${correlation} ${replay()}`).toHaveLength(1);
    }
  });

  it('does no action twice: AWS carries out each mutation at most once, however often it is asked', () => {
    // Arrange
    const done = new Map<string, number>();
    for (const call of proxy.calls) {
      if (!MUTATING_OPERATIONS.has(call.operation) || !carriedOut(call)) continue;
      const key = `${call.operation} ${call.body}`;
      done.set(key, (done.get(key) ?? 0) + 1);
    }
    const twice = [...done].filter(([, n]) => n > 1).map(([key]) => key);
    const mutations = done.size;
    // A runbook start carries a ClientToken per alarm transition: SSM starts one execution per token.
    const tokens = new Set(
      ssm.commandCalls(StartAutomationExecutionCommand).map((call) => call.args[0].input.ClientToken),
    );
    const alarms = deliveries.filter((d) => d.fn === 'onAlarm').length + 1;
    // Assert
    expect(mutations, 'no mutation was exercised').toBeGreaterThan(0);
    expect(twice, replay()).toEqual([]);
    // Every alarm here is its own incident, allowed one start: asked again, under the same token.
    expect(tokens.has(undefined), 'a runbook started without a ClientToken').toBe(false);
    expect(tokens.size, replay()).toBeLessThanOrEqual(alarms);
  });
});
