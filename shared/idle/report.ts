import type { Outcome } from '#shared/domain/outcome.ts';
import { STOP_PROTECTED_REF } from '#shared/executors/stopInstances.ts';
import { logger } from '#shared/runtime/powertools.ts';
import type { IdleVerdict } from './fleet.ts';

/** Verdicts per log entry: a CloudWatch Logs event holds 256 KB, a fleet of 5000 needs several. */
const VERDICTS_PER_LOG_ENTRY = 200;

/** The instances a decision's stop outcome says it stopped (by this attempt or an earlier one). */
export function stoppedInstances(outcomes: readonly Outcome[]): Set<string> {
  const refs = outcomes.find((o) => o.kind === 'ec2.stop-instances')?.refs ?? {};
  return new Set(Object.keys(refs).filter((id) => refs[id]?.startsWith('stopped')));
}

/** The instances a decision's stop outcome says StopInstances refused for their stop protection. */
export function refusedByStopProtection(outcomes: readonly Outcome[]): Set<string> {
  const refs = outcomes.find((o) => o.kind === 'ec2.stop-instances')?.refs ?? {};
  return new Set(Object.keys(refs).filter((id) => refs[id] === STOP_PROTECTED_REF));
}

/** Every verdict of a stop decision in the log, in parts small enough for a log event. */
export function logVerdicts(verdicts: readonly IdleVerdict[]): void {
  const parts = Math.ceil(verdicts.length / VERDICTS_PER_LOG_ENTRY);
  for (let i = 0; i < parts; i++) {
    const slice = verdicts.slice(i * VERDICTS_PER_LOG_ENTRY, (i + 1) * VERDICTS_PER_LOG_ENTRY);
    logger.info('idle verdicts', {
      part: `${i + 1}/${parts}`,
      verdicts: slice.map(({ instanceId, decision, reason }) => ({ instanceId, decision, reason })),
    });
  }
}
