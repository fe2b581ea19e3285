/** The packaged stack watching itself: its alarms, the dashboard, and the global-events forward rules. */
import { beforeAll, describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import {
  dashboardOf,
  eventRules,
  functionLogicalId,
  selfAlarms,
  wouldAlarm,
} from '../../tools/local/packaged.ts';
import { type PackagedRun, packagedOnce } from '../support/packagedOnce.ts';
import { forwardRules, functionRuleNames, functions } from '../support/packagedTemplate.ts';

let packaged: PackagedRun;

beforeAll(async () => {
  packaged = await packagedOnce('dev');
}, 300_000);

describe('the packaged template: self-monitoring and forwarding', () => {
  it("forwards IAM, STS, sign-in and Organizations events from us-east-1 to the home region's bus only when asked, filtered like onCloudTrail's rule", () => {
    // Arrange
    const resources = packaged.template.Resources;
    // One forward rule per onCloudTrail rule (GlobalEventsForwardRule, ...Rule2, ...), as many as its patterns.
    const rules = Object.entries(resources)
      .filter(([id]) => /^GlobalEventsForwardRule\d*$/.test(id))
      .sort(([a], [b]) => a.length - b.length || a.localeCompare(b))
      .map(([, r]) => r);
    const rule = rules[0];
    const condition = (packaged.template as unknown as { Conditions: Record<string, unknown> }).Conditions
      .ForwardGlobalEvents;
    const onCloudTrail = eventRules(packaged.template)
      .filter((r) => r.functionName === 'onCloudTrail')
      .map((r) => r.pattern);
    // Assert
    expect(rule?.Condition).toBe('ForwardGlobalEvents');
    expect(resources.GlobalEventsForwardRole?.Condition).toBe('ForwardGlobalEvents');
    expect(condition).toEqual({
      'Fn::And': [
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
        { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'GlobalEventsHomeRegion' }, ''] }] },
        { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'GlobalEventsHomeRegion' }, 'us-east-1'] }] },
      ],
    });
    expect(rules.map((r) => r?.Condition)).toEqual(onCloudTrail.map(() => 'ForwardGlobalEvents'));
    expect(rules.map((r) => r?.Properties.EventPattern)).toEqual(
      (onCloudTrail as { 'detail-type': string[]; detail: unknown }[]).map((p) => ({
        source: ['aws.iam', 'aws.sts', 'aws.signin', 'aws.organizations'],
        'detail-type': p['detail-type'],
        detail: p.detail,
      })),
    );
  });

  it.each(functions)(
    'watches %s: errors that repeat, throttles and its rule (if it has one) failing to invoke it each page when they fire and when they clear',
    (name, entry) => {
      // Arrange
      const lambda = { Ref: functionLogicalId(packaged.template, name) };
      const { trigger } = entry.deployment;
      const rule = 'manual' in trigger ? undefined : `ops-autopilot-dev-${trigger.rule}`;
      const alarms = selfAlarms(packaged.template).map(([, a]) => a.Properties);
      const onFunction = (metric: string) =>
        alarms.filter(
          (a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(JSON.stringify(lambda)),
        );
      const onRule = alarms.filter(
        (a) =>
          a.MetricName === 'FailedInvocations' && String(a.AlarmDescription).includes(`invoking ${name} `),
      );
      const onItsRule = alarms.filter(
        (a) =>
          a.MetricName === 'FailedInvocations' &&
          JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'RuleName', Value: rule }]),
      );
      // Assert
      // A function invoked by hand has no rule, so no failed-invocations alarm of its own.
      if (rule === undefined) expect(onRule, name).toEqual([]);
      for (const [what, found] of [
        ['Errors', onFunction('Errors')],
        ['Throttles', onFunction('Throttles')],
        ...(rule === undefined ? [] : [['FailedInvocations', onItsRule] as const]),
      ] as const) {
        expect(found, `${name} ${what}`).toHaveLength(1);
        expect(found[0]?.AlarmActions, `${name} ${what}`).toEqual([{ Ref: 'PageTopic' }]);
        expect(found[0]?.OKActions, `${name} ${what}`).toEqual([{ Ref: 'PageTopic' }]);
        expect(found[0]?.Period, `${name} ${what}`).toBe(entry.deployment.monitoring.period);
      }
      expect(onFunction('Errors')[0]?.DatapointsToAlarm, name).toBeGreaterThan(1);
    },
  );

  it.each(functions)(
    "charts %s on the dashboard: its own metrics, its errors and throttles, its rule's failed invocations (if it has one)",
    (name, entry) => {
      // Arrange
      const { body, values } = dashboardOf(packaged.template);
      const charts = body.widgets.flatMap((w) => (w.properties.metrics ?? []) as string[][]);
      const fnVar = Object.entries(values).find(
        ([, v]) => JSON.stringify(v) === JSON.stringify({ Ref: functionLogicalId(packaged.template, name) }),
      )?.[0];
      // Assert
      for (const widget of entry.deployment.monitoring.widgets) {
        const shown = body.widgets.find((w) => w.properties.title === widget.title);
        expect(shown, `${name}: ${widget.title}`).toBeDefined();
        expect(JSON.stringify(shown?.properties.metrics)).toContain(`"function","${name}"`);
        for (const m of widget.metrics) expect(JSON.stringify(shown?.properties.metrics)).toContain(`"${m}"`);
      }
      expect(fnVar, `${name} has no errors chart`).toBeDefined();
      expect(charts).toContainEqual(['AWS/Lambda', 'Errors', 'FunctionName', `\${${fnVar}}`]);
      const { trigger } = entry.deployment;
      if (!('manual' in trigger)) {
        expect(charts).toContainEqual([
          'AWS/Events',
          'FailedInvocations',
          'RuleName',
          `ops-autopilot-\${Stage}-${trigger.rule}`,
        ]);
      }
    },
  );

  it('has a dashboard whose body is valid JSON once CloudFormation substitutes it, forwarding global events or not', () => {
    for (const forwardGlobalEvents of [false, true]) {
      // Arrange
      const sub = dashboardOf(packaged.template, { forwardGlobalEvents }).source;
      // Act
      const body = JSON.parse(sub.replace(/\$\{[^}]+\}/g, 'x')) as { widgets: unknown[] };
      // Assert
      expect(body.widgets.length).toBeGreaterThanOrEqual(4);
    }
  });

  it('shows every alarm of its own on the dashboard, and one that exists only with forwarding only on a stack that forwards', () => {
    // Arrange
    const shownWith = (forwardGlobalEvents: boolean) =>
      Object.values(dashboardOf(packaged.template, { forwardGlobalEvents }).values).map((v) =>
        JSON.stringify(v),
      );
    const [forwarding, notForwarding] = [shownWith(true), shownWith(false)];
    // Assert
    for (const [id, alarm] of selfAlarms(packaged.template)) {
      const arn = JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
      expect(forwarding, `${id} is not on the dashboard`).toContain(arn);
      // A stack that does not forward has no such alarm: naming it would fail the deployment.
      if (alarm.Condition === 'ForwardGlobalEvents') expect(notForwarding, id).not.toContain(arn);
      else expect(notForwarding, `${id} is not on the dashboard`).toContain(arn);
    }
  });

  it('watches each global-events forward rule: its failed invocations page at once and when they clear, where the rule exists', () => {
    // Arrange
    const rules = forwardRules(packaged.template);
    const alarms = selfAlarms(packaged.template);
    // Assert
    const onCloudTrailRules = eventRules(packaged.template).filter((r) => r.functionName === 'onCloudTrail');
    expect(rules.map((r) => r.name)).toEqual(
      onCloudTrailRules.map((_, i) => `ops-autopilot-dev-global-events-forward${i === 0 ? '' : `-${i + 1}`}`),
    );
    for (const rule of rules) {
      const found = alarms.filter(
        ([, a]) =>
          a.Properties.MetricName === 'FailedInvocations' &&
          JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'RuleName', Value: rule.name }]),
      );
      expect(found, rule.name).toHaveLength(1);
      const [, alarm] = found[0] as [string, (typeof found)[0][1]];
      expect(alarm.Condition, rule.name).toBe(packaged.template.Resources[rule.logicalId]?.Condition);
      expect(alarm.Properties.Namespace, rule.name).toBe('AWS/Events');
      expect(alarm.Properties.AlarmActions, rule.name).toEqual([{ Ref: 'PageTopic' }]);
      expect(alarm.Properties.OKActions, rule.name).toEqual([{ Ref: 'PageTopic' }]);
      expect(wouldAlarm(alarm, [undefined, undefined, 1]), rule.name).toBe(true);
    }
  });

  it('charts the failed invocations of the global-events forward rules on the dashboard of a stack that forwards', () => {
    // Arrange
    const charted = (forwardGlobalEvents: boolean) =>
      dashboardOf(packaged.template, { forwardGlobalEvents }).body.widgets.flatMap(
        (w) => (w.properties.metrics ?? []) as string[][],
      );
    const lines = forwardRules(packaged.template).map((r) => [
      'AWS/Events',
      'FailedInvocations',
      'RuleName',
      r.name.replace('ops-autopilot-dev-', `ops-autopilot-\${Stage}-`),
    ]);
    // Assert
    expect(lines).toHaveLength(
      eventRules(packaged.template).filter((r) => r.functionName === 'onCloudTrail').length,
    );
    for (const line of lines) {
      expect(charted(true)).toContainEqual(line);
      expect(charted(false)).not.toContainEqual(line);
    }
  });

  it('pages the topic when one of its own alarms fires and again when it clears', () => {
    // Arrange
    const alarms = selfAlarms(packaged.template);
    const rules = [...functionRuleNames(packaged.template), ...forwardRules(packaged.template)];
    // Assert: errors and throttles per function, failed invocations per rule (forward rules too), the two queues
    expect(alarms.length).toBe(2 * registry.length + rules.length + 2);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: 'PageTopic' }]);
      expect(alarm.Properties.OKActions, id).toEqual(alarm.Properties.AlarmActions);
    }
  });

  it('does not page on a single function error, only on errors that repeat', () => {
    // Arrange
    const errors = selfAlarms(packaged.template).filter(([, a]) => a.Properties.MetricName === 'Errors');
    // Assert
    expect(errors).toHaveLength(registry.length);
    for (const [id, alarm] of errors) {
      // A refused duplicate or a mistyped manual invoke: one errored period, whatever came before.
      for (let at = 0; at < 4; at++) {
        const periods = [0, 0, 0, 0].map((v, i) => (i === at ? 3 : v));
        expect(wouldAlarm(alarm, periods), `${id} paged on ${periods.join(',')}`).toBe(false);
      }
      expect(wouldAlarm(alarm, [undefined, undefined, undefined, 5]), id).toBe(false);
      // Errors in consecutive periods: something is failing for real.
      expect(wouldAlarm(alarm, [0, 0, 1, 1]), id).toBe(true);
    }
  });

  it('pages on the first message in the failure queue or the events DLQ, the first throttle and the first failed rule invocation', () => {
    // Arrange
    const prompt = selfAlarms(packaged.template).filter(([, a]) => a.Properties.MetricName !== 'Errors');
    const queues = prompt.map(([, a]) => JSON.stringify(a.Properties.Dimensions));
    // Assert
    expect(queues.some((d) => d.includes('"FailureQueue"'))).toBe(true);
    expect(queues.some((d) => d.includes('"EventsDeadLetterQueue"'))).toBe(true);
    expect(prompt.map(([, a]) => a.Properties.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
      ...functionRuleNames(packaged.template).map(() => 'FailedInvocations'),
      ...forwardRules(packaged.template).map(() => 'FailedInvocations'),
      ...registry.map(() => 'Throttles'),
    ]);
    for (const [id, alarm] of prompt) {
      expect(wouldAlarm(alarm, [undefined, undefined, 1]), id).toBe(true);
    }
  });
});
