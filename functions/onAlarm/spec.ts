import { runbookExecutor } from '#shared/executors/runbook.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { envelopeScope, type FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { alarmApproval } from './approval.ts';
import { type AlarmGathered, gatherAlarm, gatherPermissions } from './gather.ts';
import { linkedPageExecutor } from './pageLink.ts';
import { type AlarmIntent, planAlarm } from './plan.ts';
import { AlarmEvent } from './schema.ts';
import { type AlarmConfig, alarmFreezeScope, specSettings } from './settings.ts';
import { type AlarmFacts, observeAlarm } from './signal.ts';

export const executors: ExecutorMap<AlarmIntent, AlarmConfig> = {
  'ssm.start-automation': runbookExecutor,
  'sns.page': linkedPageExecutor,
};

/** CloudWatch alarm state change -> runbook (per configuration, in scope, within limits) and one page per incident. */
export const onAlarm: FunctionSpec<
  typeof AlarmEvent,
  AlarmFacts,
  AlarmGathered,
  AlarmIntent,
  undefined,
  typeof specSettings
> = {
  name: 'onAlarm',
  settings: specSettings,
  schema: AlarmEvent,
  idempotency: { key: 'id' },
  // The alarm's own account and region: a forwarded alarm must not start a runbook on an instance here.
  scope: envelopeScope,
  observe: observeAlarm,
  gather: { permissions: gatherPermissions, read: gatherAlarm },
  plan: planAlarm,
  executors,
  changeFreeze: alarmFreezeScope,
  approval: alarmApproval,
};
