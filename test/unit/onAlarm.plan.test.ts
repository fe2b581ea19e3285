import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import type { AlarmGathered } from '#functions/onAlarm/gather.ts';
import { planAlarm } from '#functions/onAlarm/plan.ts';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import { alarmFacts, alarmSignal } from '#functions/onAlarm/signal.ts';
import { type RuntimeConfig, runbookCooldownMinutes } from '#shared/config.ts';
import type { PageIntent, RunbookIntent } from '#shared/domain/intent.ts';
import { type AlarmEventOptions, loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';

const restartRule = {
  name: 'restart-web',
  match: { alarmName: 'web-*' },
  runbook: {
    document: 'AWS-RestartEC2Instance',
    parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' as const } },
  },
  severity: 'warning' as const,
};

const OPTED_IN = { 'ops:auto-remediate': 'true' };

/** Plans one event; the target instance (the InstanceId dimension) is running and opted in unless `extra` says otherwise. */
function planFor(
  options: AlarmEventOptions,
  config: RuntimeConfig,
  tags: Record<string, string> = {},
  extra: Partial<AlarmGathered> = {},
) {
  const event = AlarmEvent.parse(makeAlarmEvent(options));
  const signal = alarmSignal(event);
  const facts = alarmFacts(event);
  const target = { instanceId: facts.dimensions.InstanceId ?? 'none', tags: OPTED_IN };
  const gathered: AlarmGathered = { tags, target, ...extra };
  return planAlarm({ signal, facts, gathered, config });
}

const runbooks = (intents: { kind: string }[]) =>
  intents.filter((i) => i.kind === 'ssm.start-automation') as RunbookIntent[];
const pages = (intents: { kind: string }[]) => intents.filter((i) => i.kind === 'sns.page') as PageIntent[];

describe('planAlarm', () => {
  it('starts the mapped runbook with the instance id from the dimensions, then pages', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(
      { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-0abc1234def567890' } },
      config,
    );
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['ssm.start-automation', 'sns.page']);
    const [runbook] = runbooks(plan.intents);
    expect(runbook?.document).toBe('AWS-RestartEC2Instance');
    expect(runbook?.parameters).toEqual({ InstanceId: ['i-0abc1234def567890'] });
    expect(pages(plan.intents)[0]?.severity).toBe('warning');
  });

  it("runs the runbook as the stack's automation role unless the rule names one", () => {
    // Arrange
    const role = 'arn:aws:iam::123456789012:role/ops-autopilot-dev-runbooks';
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] }, { automationRoleArn: role });
    // Act
    const plan = planFor(
      { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-0abc1234def567890' } },
      config,
    );
    // Assert
    expect(runbooks(plan.intents)[0]?.parameters).toEqual({
      InstanceId: ['i-0abc1234def567890'],
      AutomationAssumeRole: [role],
    });
  });

  it("plans the same runbook and page on a dry-run stage: whether it runs is the runtime's decision", () => {
    // Arrange
    const live = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const dry = makeConfig({ dryRun: true, alarmRules: [restartRule] });
    // Act
    const livePlan = planFor({ alarmName: 'web-cpu-high' }, live);
    const dryPlan = planFor({ alarmName: 'web-cpu-high' }, dry);
    // Assert
    expect(dryPlan.intents.map((i) => i.kind)).toEqual(livePlan.intents.map((i) => i.kind));
    expect(runbooks(dryPlan.intents)).toEqual(runbooks(livePlan.intents));
    expect(runbooks(dryPlan.intents)[0]).not.toHaveProperty('dryRun');
    expect(pages(dryPlan.intents)).toHaveLength(1);
  });

  it('refuses a dimension value that is not an instance id and says why in the page', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(
      { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-123; rm -rf /' } },
      config,
    );
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes).toContainEqual(expect.objectContaining({ reason: 'invalid-parameter' }));
    expect(pages(plan.intents)[0]?.content.reason).toMatch(/is not a ec2-instance-id/);
  });

  it('refuses a runbook whose dimension is missing', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor({ alarmName: 'web-cpu-high', dimensions: { AutoScalingGroupName: 'web' } }, config);
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes[0]?.detail).toMatch(/has no dimension InstanceId/);
  });

  it('takes severity from the alarm tag over the rule and the default', () => {
    // Arrange
    const config = makeConfig({ alarmRules: [restartRule], defaultSeverity: 'info' });
    // Act
    const tagged = planFor({ alarmName: 'web-cpu-high' }, config, { severity: 'CRITICAL' });
    const untagged = planFor({ alarmName: 'web-cpu-high' }, config);
    const unmatched = planFor({ alarmName: 'db-disk-full' }, config);
    // Assert
    expect(pages(tagged.intents)[0]?.severity).toBe('critical');
    expect(pages(untagged.intents)[0]?.severity).toBe('warning');
    expect(pages(unmatched.intents)[0]?.severity).toBe('info');
  });

  it('matches rules by namespace and metric, and by alarm tag', () => {
    // Arrange
    const config = makeConfig({
      alarmRules: [
        {
          name: 'by-metric',
          match: { namespace: 'AWS/RDS', metricName: 'FreeStorageSpace' },
          severity: 'critical',
        },
        { name: 'by-tag', match: { tag: { key: 'team', value: 'payments' } }, severity: 'high' },
      ],
      defaultSeverity: 'info',
    });
    // Act
    const byMetric = planFor({ namespace: 'AWS/RDS', metricName: 'FreeStorageSpace' }, config);
    const byTag = planFor({}, config, { team: 'payments' });
    // Assert
    expect(pages(byMetric.intents)[0]?.severity).toBe('critical');
    expect(pages(byTag.intents)[0]?.severity).toBe('high');
  });

  it('pages with the default severity and notes that no rule matched', () => {
    // Arrange
    const config = makeConfig({ alarmRules: [restartRule], defaultSeverity: 'high' });
    // Act
    const plan = planFor({ alarmName: 'queue-depth' }, config);
    // Assert
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
    expect(plan.notes).toContainEqual(expect.objectContaining({ reason: 'no-matching-rule' }));
  });

  it('does neither start a runbook nor page for a muted alarm', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor({ alarmName: 'web-cpu-high', muted: true }, config);
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.notes).toContainEqual(expect.objectContaining({ reason: 'muted' }));
  });

  it('does not act on a composite alarm whose actions are held by its suppressor', () => {
    // Arrange
    const config = makeConfig({ dryRun: false });
    const event = AlarmEvent.parse(loadFixture('onAlarm/composite-alarm.json'));
    // Act
    const plan = planAlarm({
      signal: alarmSignal(event),
      facts: alarmFacts(event),
      gathered: { tags: {} },
      config,
    });
    // Assert
    expect(plan.intents).toEqual([]);
    expect(plan.notes[0]?.detail).toMatch(/actions suppressor/);
  });

  it('plans a resolve notice for OK and nothing for INSUFFICIENT_DATA', () => {
    // Arrange
    const config = makeConfig({ alarmRules: [restartRule] });
    // Act
    const ok = planFor({ alarmName: 'web-cpu-high', state: 'OK' }, config);
    const unknown = planFor({ alarmName: 'web-cpu-high', state: 'INSUFFICIENT_DATA' }, config);
    // Assert
    expect(ok.intents).toEqual([expect.objectContaining({ kind: 'sns.page', notice: 'resolve' })]);
    expect(unknown.intents).toEqual([]);
  });

  it('derives the same runbook token for a duplicate delivery and a new one for a new transition', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const first = { alarmName: 'web-cpu-high', timestamp: '2025-06-21T02:17:44.533+0000' };
    // Act
    const a = runbooks(planFor({ ...first, id: 'delivery-1' }, config).intents)[0];
    const b = runbooks(planFor({ ...first, id: 'delivery-2' }, config).intents)[0];
    const c = runbooks(planFor({ ...first, timestamp: '2025-06-21T05:00:00.000+0000' }, config).intents)[0];
    // Assert
    expect(a?.clientToken).toBe(b?.clientToken);
    expect(a?.clientToken).not.toBe(c?.clientToken);
    expect(a?.clientToken).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

const WEB = { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-0abc1234def567890' } };
const targetWith = (tags: Record<string, string>) => ({
  target: { instanceId: 'i-0abc1234def567890', tags },
});

describe('planAlarm: runbook scope', () => {
  it('refuses a target without the opt-in tag, pages anyway and says why', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(WEB, config, {}, targetWith({ Name: 'web-1' }));
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes).toContainEqual(
      expect.objectContaining({
        reason: 'out-of-scope',
        detail: expect.stringContaining('ops:auto-remediate=true'),
      }),
    );
    expect(pages(plan.intents)[0]?.content.reason).toContain(
      'instance i-0abc1234def567890 is not tagged ops:auto-remediate=true (it has no such tag)',
    );
  });

  it('refuses a target whose opt-in tag has another value', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(WEB, config, {}, targetWith({ 'ops:auto-remediate': 'TRUE' }));
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes[0]?.detail).toContain('it has ops:auto-remediate=TRUE');
  });

  it("uses the rule's own opt-in tag instead of the default", () => {
    // Arrange
    const rule = {
      ...restartRule,
      runbook: { ...restartRule.runbook, scope: { tag: { key: 'team', value: 'web' } } },
    };
    const config = makeConfig({ dryRun: false, alarmRules: [rule] });
    // Act
    const inScope = planFor(WEB, config, {}, targetWith({ team: 'web' }));
    const defaultTagOnly = planFor(WEB, config, {}, targetWith(OPTED_IN));
    // Assert
    expect(runbooks(inScope.intents)).toHaveLength(1);
    expect(runbooks(defaultTagOnly.intents)).toHaveLength(0);
  });

  it.each([
    ['aws:autoscaling:groupName', 'web-asg', 'Auto Scaling'],
    ['eks:nodegroup-name', 'workers', 'EKS'],
    ['AmazonECSManaged', '', 'ECS'],
    ['karpenter.sh/nodepool', 'default', 'Karpenter'],
    ['aws:elasticmapreduce:job-flow-id', 'j-1', 'EMR'],
    ['aws:batch:compute-environment', 'ce', 'AWS Batch'],
  ])('refuses an opted-in instance managed by another service (%s)', (key, value, owner) => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(WEB, config, {}, targetWith({ ...OPTED_IN, [key]: value }));
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes[0]).toMatchObject({ reason: 'out-of-scope' });
    expect(pages(plan.intents)[0]?.content.reason).toContain(`is managed by ${owner} (tag ${key}=${value})`);
  });

  it('acts on a managed instance when the rule opts out of the managed-by exclusions', () => {
    // Arrange
    const rule = { ...restartRule, runbook: { ...restartRule.runbook, scope: { ignoreManagedBy: true } } };
    const config = makeConfig({ dryRun: false, alarmRules: [rule] });
    // Act
    const plan = planFor(
      WEB,
      config,
      {},
      targetWith({ ...OPTED_IN, 'aws:autoscaling:groupName': 'web-asg' }),
    );
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(1);
  });

  it('refuses when the target could not be read, rather than guess', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const unreadable = { instanceId: 'i-0abc1234def567890', unavailable: 'UnauthorizedOperation: denied' };
    // Act
    const plan = planFor(WEB, config, {}, { target: unreadable });
    const notGathered = planFor(WEB, config, {}, { target: undefined });
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(pages(plan.intents)[0]?.content.reason).toContain(
      'could not be read (UnauthorizedOperation: denied)',
    );
    expect(runbooks(notGathered.intents)).toHaveLength(0);
    expect(notGathered.notes[0]).toMatchObject({ reason: 'out-of-scope' });
  });

  it("refuses a runbook whose target is not an EC2 instance unless the rule says scope: 'none'", () => {
    // Arrange
    const bucketRule = (scope?: 'none') => ({
      name: 'lock-bucket',
      match: { alarmName: 'web-*' },
      runbook: {
        document: 'AWS-DisableS3BucketPublicReadWrite',
        parameters: { S3BucketName: { fromTag: 'bucket', format: 's3-bucket-name' as const } },
        ...(scope ? { scope } : {}),
      },
    });
    const tags = { bucket: 'my-bucket' };
    // Act
    const scoped = planFor(WEB, makeConfig({ dryRun: false, alarmRules: [bucketRule()] }), tags);
    const unscoped = planFor(WEB, makeConfig({ dryRun: false, alarmRules: [bucketRule('none')] }), tags);
    // Assert
    expect(runbooks(scoped.intents)).toHaveLength(0);
    expect(scoped.notes[0]?.detail).toMatch(/target is not an EC2 instance/);
    expect(runbooks(unscoped.intents)[0]?.parameters).toEqual({ S3BucketName: ['my-bucket'] });
  });

  it('checks the instance the rule names as its target', () => {
    // Arrange
    const rule = {
      name: 'restart-peer',
      match: { alarmName: 'web-*' },
      runbook: {
        document: 'Restart-Peer',
        parameters: {
          Source: { fromDimension: 'InstanceId', format: 'ec2-instance-id' as const },
          Peer: { fromTag: 'peer', format: 'ec2-instance-id' as const },
        },
        target: { parameter: 'Peer' },
      },
    };
    const config = makeConfig({ dryRun: false, alarmRules: [rule] });
    const peer = { instanceId: 'i-0fedcba9876543210', tags: OPTED_IN };
    // Act
    const onPeer = planFor(WEB, config, { peer: peer.instanceId }, { target: peer });
    const onSource = planFor(WEB, config, { peer: peer.instanceId });
    // Assert
    expect(runbooks(onPeer.intents)).toHaveLength(1);
    expect(runbooks(onSource.intents)).toHaveLength(0);
  });
});

describe('planAlarm: a late ALARM', () => {
  it('starts no runbook for an ALARM not later than the latest OK, and says so', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const okAt = Date.parse('2025-06-21T03:00:00.000Z');
    // Act
    const late = planFor(
      { ...WEB, timestamp: '2025-06-21T02:00:00.000+0000' },
      config,
      {},
      { recoveredAt: okAt },
    );
    const same = planFor(
      { ...WEB, timestamp: '2025-06-21T03:00:00.000+0000' },
      config,
      {},
      { recoveredAt: okAt },
    );
    const newer = planFor(
      { ...WEB, timestamp: '2025-06-21T04:00:00.000+0000' },
      config,
      {},
      { recoveredAt: okAt },
    );
    // Assert
    expect(runbooks(late.intents)).toHaveLength(0);
    expect(late.notes).toContainEqual(
      expect.objectContaining({
        reason: 'already-recovered',
        detail: expect.stringContaining('already returned to OK at 2025-06-21T03:00:00.000Z'),
      }),
    );
    expect(runbooks(same.intents)).toHaveLength(0);
    expect(runbooks(newer.intents)).toHaveLength(1);
  });
});

describe('runbook rules configuration', () => {
  it('rejects a target that names no runbook parameter', () => {
    // Act
    const error = (() => {
      try {
        parseStageConfig('t', {
          dryRun: true,
          alarmRules: [
            { ...restartRule, runbook: { ...restartRule.runbook, target: { parameter: 'Nope' } } },
          ],
        });
      } catch (e) {
        return e as Error;
      }
    })();
    // Assert
    expect(error?.message).toContain('alarmRules.0.runbook.target.parameter');
  });

  it('rejects rules whose scopes use different tag keys, since one IAM condition guards them', () => {
    // Arrange
    const withTag = (name: string, key: string) => ({
      ...restartRule,
      name,
      runbook: { ...restartRule.runbook, scope: { tag: { key, value: 'true' } } },
    });
    // Act
    const parse = () =>
      parseStageConfig('t', { dryRun: true, alarmRules: [withTag('a', 'x'), withTag('b', 'y')] });
    // Assert
    expect(parse).toThrow(/different runbook scope tag keys \(x, y\)/);
  });

  it('defaults to one start per incident within the paging window', () => {
    // Act
    const cfg = parseStageConfig('t', { dryRun: true, paging: { suppressionWindowMinutes: 45 } });
    // Assert
    expect(cfg.runbooks.maxStartsPerIncident).toBe(1);
    expect(runbookCooldownMinutes(cfg)).toBe(45);
  });
});

describe('alarmSignal', () => {
  it.each([
    ['onAlarm/metric-alarm.json', 'metric'],
    ['onAlarm/metric-math-alarm.json', 'metric-math'],
    ['onAlarm/anomaly-detection-alarm.json', 'anomaly-detection'],
    ['onAlarm/composite-alarm.json', 'composite'],
    ['onAlarm/multi-time-series-alarm.json', 'multi-time-series'],
    ['onAlarm/multi-time-series-contributor-alarm.json', 'multi-time-series'],
  ])('recognises %s as a %s alarm', (fixture, type) => {
    // Arrange
    const event = AlarmEvent.parse(loadFixture(fixture));
    // Act
    const signal = alarmSignal(event);
    // Assert
    expect(signal.evidence.alarmType).toBe(type);
    expect(signal.correlationId).toBe(event.id);
    expect(signal.account).toBe('123456789012');
  });

  it("files a contributor under its alarm's incident, so one alarm pages once, and names the contributor", () => {
    // Arrange
    const contributor = AlarmEvent.parse(loadFixture('onAlarm/multi-time-series-contributor-alarm.json'));
    // Act
    const signal = alarmSignal(contributor);
    // Assert
    expect(signal.incidentKey).toBe(contributor.resources[0]);
    expect(signal.title).toContain('TableName=payments-ledger');
  });

  it('starts one runbook per contributor but lets only the alarm-level OK resolve', () => {
    // Arrange
    const config = makeConfig({
      dryRun: false,
      alarmRules: [
        {
          name: 'ddb',
          match: { alarmName: 'ddb-*' },
          runbook: {
            document: 'Scale-Table',
            parameters: { Table: { fromDimension: 'TableName', format: 'name' } },
            scope: 'none',
          },
        },
      ],
    });
    const raw = loadFixture<{
      detail: {
        alarmContributor: { id: string; attributes: Record<string, string> };
        state: { value: string };
      };
    }>('onAlarm/multi-time-series-contributor-alarm.json');
    const other = structuredClone(raw);
    other.detail.alarmContributor = { id: 'ffff', attributes: { TableName: 'orders' } };
    const ok = structuredClone(raw);
    ok.detail.state.value = 'OK';
    const planOf = (e: unknown) => {
      const event = AlarmEvent.parse(e);
      return planAlarm({
        signal: alarmSignal(event),
        facts: alarmFacts(event),
        gathered: { tags: {} },
        config,
      });
    };
    // Act
    const [a, b, resolve] = [planOf(raw), planOf(other), planOf(ok)];
    // Assert
    expect(runbooks(a.intents)[0]?.parameters).toEqual({ Table: ['payments-ledger'] });
    expect(runbooks(b.intents)[0]?.parameters).toEqual({ Table: ['orders'] });
    expect(runbooks(a.intents)[0]?.clientToken).not.toBe(runbooks(b.intents)[0]?.clientToken);
    expect(resolve.intents).toEqual([]);
  });

  it('carries the datapoints and threshold from reasonData as evidence', () => {
    // Arrange
    const event = AlarmEvent.parse(loadFixture('onAlarm/metric-alarm.json'));
    // Act
    const signal = alarmSignal(event);
    // Assert
    expect(signal.evidence.threshold).toBeTypeOf('number');
    expect(String(signal.evidence.recentDatapoints)).toMatch(/\d/);
    expect(signal.resources).toContainEqual({ type: 'ec2 instance', id: 'i-0abc1234def567890' });
  });

  it('survives reasonData that is not JSON', () => {
    // Arrange
    const raw = makeAlarmEvent();
    (raw.detail.state as { reasonData: string }).reasonData = '{not json';
    // Act
    const signal = alarmSignal(AlarmEvent.parse(raw));
    // Assert
    expect(signal.evidence.threshold).toBeUndefined();
    expect(signal.summary).toMatch(/Threshold Crossed/);
  });
});
