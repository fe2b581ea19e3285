import { describe, expect, it } from 'vitest';
import type { AlarmIntent } from '#functions/onAlarm/plan.ts';
import { executors } from '#functions/onAlarm/spec.ts';
import { pageExecutor } from '#shared/executors/page.ts';
import type { ExecutorMap } from '#shared/executors/types.ts';

describe('executor maps', () => {
  it('wire one executor per intent kind, under its own kind', () => {
    for (const [kind, executor] of Object.entries(executors)) expect(executor.kind).toBe(kind);
  });

  it('do not compile when an intent kind has no executor', () => {
    // `npm run typecheck` fails if this line ever compiles: the map must be exhaustive.
    // @ts-expect-error ssm.start-automation is missing
    const incomplete: ExecutorMap<AlarmIntent> = { 'sns.page': pageExecutor };
    expect(Object.keys(incomplete)).toEqual(['sns.page']);
  });

  it('mark every executor that changes resources as mutating, and paging as not', () => {
    expect(executors['ssm.start-automation'].mutates).toBe(true);
    expect(executors['sns.page'].mutates).toBe(false);
  });
});
