import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { pageExecutor } from '#shared/executors/page.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';
import { envelopeScope, type FunctionSpec } from '#shared/runtime/functionSpec.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { type __TYPE__Gathered, gather__TYPE__, gatherPermissions } from './gather.ts';
import { type __TYPE__Findings, type __TYPE__Intent, plan__TYPE__ } from './plan.ts';
import { __EVENT__ } from './schema.ts';
import { type __TYPE__Config, specSettings } from './settings.ts';
import { type __TYPE__Facts, observe__TYPE__ } from './signal.ts';

export const executors: ExecutorMap<__TYPE__Intent, __TYPE__Config> = {
  'sns.page': pageExecutor,
};

/** AWS Health event -> one page per event of a category the stage pages (the scaffold's starting point). */
export const __NAME__: FunctionSpec<
  typeof __EVENT__,
  __TYPE__Facts,
  __TYPE__Gathered,
  __TYPE__Intent,
  __TYPE__Findings,
  typeof specSettings
> = {
  name: '__NAME__',
  // The stage settings it reads: the runtime parses these, with the shared ones, and no others; its
  // steps' config is typed after them, so another function's key does not compile.
  settings: specSettings,
  schema: __EVENT__,
  idempotency: { key: 'id' },
  // The events of this stack's own account and region only.
  scope: envelopeScope,
  observe: observe__TYPE__,
  gather: { permissions: gatherPermissions, read: gather__TYPE__ },
  plan: plan__TYPE__,
  executors,
  measure(result) {
    // An event of a category this stage does not page: counted, so the dashboard shows what was held back.
    if (result.findings?.decision === 'record') metrics.addMetric('HealthEventsRecorded', MetricUnit.Count, 1);
  },
};
