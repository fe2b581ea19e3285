import type { PageIntent, Plan } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { __TYPE__Gathered } from './gather.ts';
import type { __TYPE__Config } from './settings.ts';
import type { __TYPE__Facts } from './signal.ts';

export type __TYPE__Intent = PageIntent;

/** What became of the event: the manual invoke's result and the metrics say it. */
export interface __TYPE__Findings {
  decision: 'page' | 'record';
}

/** Pure: page an open or upcoming event of a category the stage pages; record the others. */
export function plan__TYPE__(input: {
  signal: Signal;
  facts: __TYPE__Facts;
  gathered: __TYPE__Gathered;
  config: __TYPE__Config;
}): Plan<__TYPE__Intent, __TYPE__Findings> {
  const { signal, facts, config } = input;
  const settings = config.__KEY__;
  if (facts.status === 'closed' || !settings.page.includes(facts.category)) {
    const why =
      facts.status === 'closed'
        ? 'it is closed'
        : `this stage does not page the ${facts.category} category (__KEY__.page)`;
    return {
      intents: [],
      notes: [
        {
          decision: 'skipped',
          reason: 'record-only',
          detail: `AWS Health event ${facts.eventArn} recorded without a page: ${why}`,
          withheld: 'sns.page',
        },
      ],
      findings: { decision: 'record' },
    };
  }
  const page = pageIntent(signal, {
    notice: 'incident',
    severity: settings.severity,
    reason: `AWS Health reports a ${facts.category} that is ${facts.status}, a category this stage pages (__KEY__.page).`,
    nothingDone: 'Nothing else: read the event in the AWS Health Dashboard (link below).',
  });
  return { intents: [page], notes: [], findings: { decision: 'page' } };
}
