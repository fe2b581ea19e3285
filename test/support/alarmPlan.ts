import type { AlarmGathered } from '#functions/onAlarm/gather.ts';
import { planAlarm } from '#functions/onAlarm/plan.ts';
import { AlarmEvent } from '#functions/onAlarm/schema.ts';
import type { AlarmConfig } from '#functions/onAlarm/settings.ts';
import { alarmFacts, alarmSignal } from '#functions/onAlarm/signal.ts';
import type { PageIntent, RunbookIntent } from '#shared/domain/intent.ts';
import { type AlarmEventOptions, makeAlarmEvent } from '../../tools/local/events.ts';

// Builders shared by the onAlarm planning tests (test/unit/onAlarm.*.test.ts): a restart rule and one planned event.

export const restartRule = {
  name: 'restart-web',
  match: { alarmName: 'web-*' },
  runbook: {
    document: 'AWS-RestartEC2Instance',
    parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instance-id' as const } },
  },
  severity: 'warning' as const,
};

export const OPTED_IN = { 'ops:auto-remediate': 'true' };

/** Plans one event; the target instance (the InstanceId dimension) is running and opted in unless `extra` says otherwise. */
export function planFor(
  options: AlarmEventOptions,
  config: AlarmConfig,
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

export const runbooks = (intents: { kind: string }[]) =>
  intents.filter((i) => i.kind === 'ssm.start-automation') as RunbookIntent[];
export const pages = (intents: { kind: string }[]) =>
  intents.filter((i) => i.kind === 'sns.page') as PageIntent[];

export const WEB = { alarmName: 'web-cpu-high', dimensions: { InstanceId: 'i-0abc1234def567890' } };
export const targetWith = (tags: Record<string, string>) => ({
  target: { instanceId: 'i-0abc1234def567890', tags },
});
