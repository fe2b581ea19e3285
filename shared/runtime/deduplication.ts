/**
 * Deduplication (the idempotency layer and the paging suppression window) is always on in a deployed
 * function: no environment variable, stage setting or event reaches this switch. Only the storm bench
 * (scripts/bench/storm.ts) turns it off, in its own process, to show what it prevents beside what it costs.
 */
let on = true;

export function deduplicationIsOn(): boolean {
  return on;
}

/** Bench only: see above. Never called by the runtime, the functions or the stack. */
export function setDeduplicationForBench(enabled: boolean): void {
  on = enabled;
}
