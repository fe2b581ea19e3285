import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { compactReport, inputsFor, RUNS, run, SEED, violation } from '../support/handlerFuzz.ts';

describe.each(registry.map((entry) => [entry.name, entry] as const))('fuzz %s', (name, entry) => {
  it(`handles or rejects by name ${RUNS} generated events, and never acts on an invalid one`, async () => {
    // Arrange
    const handler = await entry.loadHandler();
    let resolved = 0;
    // Act
    await fc.assert(
      fc.asyncProperty(inputsFor(name), async (event) => {
        const verdict = await run(handler, event);
        if (verdict.resolved) resolved++;
        // Assert
        expect(violation(name, verdict)).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, reporter: compactReport },
    );
    // Some inputs are valid and go all the way through, so the fuzz reaches the pipeline too.
    expect(resolved).toBeGreaterThan(0);
    // 10,000 events take 20 to 40 s alone; the time limit leaves room for a busy machine.
  }, 180_000);
});
