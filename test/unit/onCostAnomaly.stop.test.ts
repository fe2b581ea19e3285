import { describe, expect, it } from 'vitest';
import { parseStageConfig, type StageConfigInput } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { registry } from '#functions/index.ts';
import type { CostAnomalyGathered } from '#functions/onCostAnomaly/gather.ts';
import { planCostAnomaly } from '#functions/onCostAnomaly/plan.ts';
import { CostAnomalyEvent } from '#functions/onCostAnomaly/schema.ts';
import { observeCostAnomaly } from '#functions/onCostAnomaly/signal.ts';
import { ConfigError } from '#shared/config.ts';
import type { PageIntent, StopInstancesIntent } from '#shared/domain/intent.ts';
import { renderPage } from '#shared/domain/page.ts';
import type { InstanceFacts } from '#shared/idle/exclusions.ts';
import type { IdleStopsGathered } from '#shared/idle/gather.ts';
import type { HourlySeries } from '#shared/idle/idleness.ts';
import { type InvocationSite, LOCAL_ACCOUNT } from '#shared/runtime/functionSpec.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';
import { costAnomaly } from '../support/events/index.ts';

const END = Date.UTC(2021, 4, 26, 10) / 1000;
const HERE: InvocationSite = { requestId: 'req-1', account: '123456789012', region: 'us-east-1' };

function hourly(value: number, hours = 24): HourlySeries {
  const timestamps = Array.from({ length: hours }, (_, k) => END - (k + 1) * 3600);
  return { timestamps, values: timestamps.map(() => value) };
}

const instance = (instanceId: string, tags: Record<string, string> = { 'ops:auto-stop': 'true' }) =>
  ({ instanceId, instanceType: 'm5.large', state: 'running', tags, rootDeviceType: 'ebs' }) as InstanceFacts;

/** A fleet as the idle stopper reads it: `idle` at 1 % CPU and 20 kB/h, `busy` at 60 % CPU. */
function fleet(
  groups: { idle?: InstanceFacts[]; busy?: InstanceFacts[] },
  usedInLastHour = 0,
  limit = 10,
): IdleStopsGathered {
  const idle = groups.idle ?? [];
  const busy = groups.busy ?? [];
  const all = [...idle, ...busy];
  return {
    instances: all,
    cpu: new Map(all.map((i) => [i.instanceId, hourly(idle.includes(i) ? 1 : 60)])),
    netIn: new Map(all.map((i) => [i.instanceId, hourly(10_000)])),
    netOut: new Map(all.map((i) => [i.instanceId, hourly(10_000)])),
    unreadable: new Map(),
    window: {
      start: new Date((END - 24 * 3600) * 1000).toISOString(),
      end: new Date(END * 1000).toISOString(),
    },
    scanStats: {
      describePages: 1,
      instancesRunning: all.length,
      instancesInScope: all.length,
      cpuIdleCandidates: idle.length,
      metricCalls: 2,
      metricsRequested: all.length + 2 * idle.length,
      describePagesFailed: 0,
      metricPagesFailed: 0,
      instancesUnreadable: 0,
    },
    budget: { limit, usedInLastHour, remaining: Math.max(0, limit - usedInLastHour) },
  };
}

type AnomalyEvent = {
  id: string;
  detail: { impact: { totalImpact: number }; rootCauses: Record<string, unknown>[] };
};

const anomaly = (fixture = 'ec2-above-stop-threshold.json') =>
  loadFixture<AnomalyEvent>(`onCostAnomaly/${fixture}`);
/** A fixture's root causes, to build an anomaly with some of them changed. */
const rootCausesOf = (fixture: string) => costAnomaly(fixture).detail.rootCauses ?? [];

function planFor(
  event: unknown,
  gathered: CostAnomalyGathered,
  options: { site?: InvocationSite; costAnomaly?: StageConfigInput['costAnomaly']; dryRun?: boolean } = {},
) {
  const observed = observeCostAnomaly(CostAnomalyEvent.parse(event), { site: options.site ?? HERE });
  const config = makeConfig({
    dryRun: options.dryRun ?? true,
    ...(options.costAnomaly ? { costAnomaly: options.costAnomaly } : {}),
  });
  return planCostAnomaly({ ...observed, gathered, config });
}

const stopOf = (plan: { intents: { kind: string }[] }) =>
  plan.intents.find((i): i is StopInstancesIntent => i.kind === 'ec2.stop-instances');
const bodyOf = (plan: { intents: { kind: string }[] }) => {
  const page = plan.intents.find((i): i is PageIntent => i.kind === 'sns.page');
  if (!page) throw new Error('no page planned');
  return renderPage(page, { outcomes: [], repeats: 0, stage: 'dev', dryRun: true, pageId: 'p-1' }).body;
};

describe('costAnomaly.stopIdle settings', () => {
  it('is off unless a stage turns it on', () => {
    // Act
    const stage = parseStageConfig('bare', { dryRun: false });
    // Assert
    expect(stage.costAnomaly.stopIdle.enabled).toBe(false);
    expect(stage.costAnomaly.stopIdle.minImpactDollars).toBeGreaterThanOrEqual(
      stage.costAnomaly.minImpactDollars,
    );
  });

  it('refuses a stop threshold below the page threshold, naming both', () => {
    // Act
    const refuse = () =>
      parseStageConfig('low', {
        dryRun: false,
        costAnomaly: { minImpactDollars: 500, stopIdle: { enabled: true, minImpactDollars: 400 } },
      });
    // Assert
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(
      'stage "low": costAnomaly.stopIdle.minImpactDollars: 400 is below the page threshold costAnomaly.minImpactDollars (500)',
    );
  });

  it('refuses a stop percentage below the page percentage', () => {
    // Act
    const refuse = () =>
      parseStageConfig('low', {
        dryRun: false,
        costAnomaly: { minImpactPercent: 30, stopIdle: { minImpactPercent: 10 } },
      });
    // Assert
    expect(refuse).toThrow(
      'costAnomaly.stopIdle.minImpactPercent: 10 is below the page threshold costAnomaly.minImpactPercent (30)',
    );
  });

  it('gives onCostAnomaly the stop permissions only on a stage that turns stopping on', async () => {
    // Arrange
    const entry = registry.find((e) => e.name === 'onCostAnomaly');
    const off = parseStageConfig('prod', stages.prod);
    const on = parseStageConfig('dev', stages.dev);
    // Act
    const [offActions, onActions] = await Promise.all([entry?.permissions(off), entry?.permissions(on)]);
    // Assert
    expect(offActions).not.toContain('ec2:StopInstances');
    expect(offActions).not.toContain('ec2:DescribeInstances');
    expect(entry?.deployment.sharedStateRecords?.(off)).toEqual([]);
    expect(onActions).toEqual(
      expect.arrayContaining(['ec2:StopInstances', 'ec2:CreateTags', 'ec2:DescribeInstances']),
    );
    expect(entry?.deployment.sharedStateRecords?.(on).map((r) => r.kind)).toEqual(['stop-budget']);
  });
});

describe('onCostAnomaly plan: stopping idle instances', () => {
  it("stops this account's opted-in idle instances above the stop threshold, quietest first, before the page", () => {
    // Arrange
    const gathered = {
      fleet: fleet({ idle: [instance('i-idle1'), instance('i-idle2')], busy: [instance('i-busy')] }),
    };
    // Act
    const plan = planFor(anomaly(), gathered);
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['ec2.stop-instances', 'sns.page']);
    const stop = stopOf(plan);
    expect(stop?.instances.map((i) => i.instanceId)).toEqual(['i-idle1', 'i-idle2']);
    expect(stop?.run).toBe('cost-anomaly#34567890-cdef-1234-5678-109876543c34#425000');
    expect(stop?.maxStopsPerHour).toBe(10);
    expect(stop?.instances[0]?.reason).toMatch(
      /^cost anomaly 34567890-cdef-1234-5678-109876543c34 \(\+\$4,250\.00\): Idle over 24 h: hourly CPU max 1 %/,
    );
    expect(plan.findings?.stopIdle?.decision).toBe('stop');
  });

  it('says on the page which instances would be stopped, with their idle evidence', () => {
    // Arrange
    const gathered = { fleet: fleet({ idle: [instance('i-idle1')], busy: [instance('i-busy')] }) };
    // Act
    const body = bodyOf(planFor(anomaly(), gathered));
    // Assert
    expect(body).toContain(
      'Idle instances (costAnomaly.stopIdle: from $2,000.00, EC2 in this account and region)',
    );
    expect(body).toContain('The idle stopper would stop (dry-run: none is stopped) 1 instance(s)');
    expect(body).toMatch(/stop +i-idle1 +m5\.large +1 % +20 KB +24\/24/);
    expect(body).toContain('Spared: 1 (busy-cpu 1)');
  });

  it('stops only what the hour leaves of the account budget, and says the rest are capped', () => {
    // Arrange: 9 of the 10 stops of the hour were made (by the idle scan or another anomaly)
    const gathered = { fleet: fleet({ idle: [instance('i-idle1'), instance('i-idle2')] }, 9) };
    // Act
    const plan = planFor(anomaly(), gathered);
    // Assert
    expect(stopOf(plan)?.instances.map((i) => i.instanceId)).toEqual(['i-idle1']);
    expect(plan.notes).toContainEqual(
      expect.objectContaining({
        reason: 'capped',
        detail: expect.stringContaining('9 already made in the last hour'),
      }),
    );
  });

  it("stops nothing when the account's hourly budget is spent, and the page says so", () => {
    // Arrange: all 10 stops of the hour were made
    const gathered = { fleet: fleet({ idle: [instance('i-idle1')] }, 10) };
    // Act
    const plan = planFor(anomaly(), gathered);
    // Assert
    expect(stopOf(plan)).toBeUndefined();
    expect(bodyOf(plan)).toContain(
      "None stopped: the hour's 10 stop(s) for the account are spent (10 already made); 1 idle instance(s) capped.",
    );
  });

  it('never asks to stop an instance that did not opt in', () => {
    // Arrange
    const gathered = {
      fleet: fleet({ idle: [instance('i-untagged', {}), instance('i-out', { 'ops:auto-stop': 'false' })] }),
    };
    // Act
    const plan = planFor(anomaly(), gathered);
    // Assert
    expect(stopOf(plan)).toBeUndefined();
    expect(plan.findings?.stopIdle?.decision).toBe('nothing-idle');
  });

  it.each([
    [
      'below the stop threshold',
      () => anomaly('anomaly-detected.json'),
      HERE,
      'the impact $1,001.00 is below the stop threshold of $2,000.00',
    ],
    [
      'in another account',
      () => anomaly(),
      { ...HERE, account: '210987654321' },
      'its root causes are in account 123456789012; this stack runs in 210987654321 and cannot act there',
    ],
    [
      'in another region',
      () =>
        costAnomaly('ec2-above-stop-threshold', {
          rootCauses: rootCausesOf('ec2-above-stop-threshold').map((c) => ({ ...c, region: 'eu-west-1' })),
        }),
      HERE,
      'its EC2 root causes are in eu-west-1; this stack runs in us-east-1 and acts only there',
    ],
    [
      'not EC2 compute',
      () =>
        costAnomaly('ec2-above-stop-threshold', {
          rootCauses: rootCausesOf('ec2-above-stop-threshold').filter((c) => c.service === 'EC2 - Other'),
        }),
      HERE,
      'no root cause in this account is EC2 compute (EC2 - Other): stopping instances would not reduce it',
    ],
    [
      'invoked locally',
      () => anomaly(),
      { ...HERE, account: LOCAL_ACCOUNT },
      'this invocation does not know the account it runs in',
    ],
  ])('stops nothing for an anomaly %s, and the page says why', (_case, event, site, why) => {
    // Arrange
    const gathered = { fleet: fleet({ idle: [instance('i-idle1')] }) };
    // Act
    const plan = planFor(event(), gathered, { site });
    // Assert
    expect(stopOf(plan)).toBeUndefined();
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
    expect(bodyOf(plan)).toContain(`None stopped: ${why}.`);
  });

  it('stops nothing and says nothing about it on a stage that leaves it off', () => {
    // Arrange
    const gathered = { fleet: fleet({ idle: [instance('i-idle1')] }) };
    // Act
    const plan = planFor(anomaly(), gathered, { costAnomaly: { stopIdle: { enabled: false } } });
    // Assert
    expect(stopOf(plan)).toBeUndefined();
    expect(bodyOf(plan)).not.toContain('Idle instances');
  });

  it('pages without stops when the fleet could not be read, saying why', () => {
    // Act
    const plan = planFor(anomaly(), { fleet: { unavailable: 'UnauthorizedOperation: no' } });
    // Assert
    expect(stopOf(plan)).toBeUndefined();
    expect(bodyOf(plan)).toContain('None stopped: the fleet could not be read (UnauthorizedOperation: no).');
  });
});
