import { describe, expect, it } from 'vitest';
import { BenchUsageError, benchUsage, parseBenchArgs } from '../../scripts/bench/args.ts';

describe("the bench's command line", () => {
  it('refuses an argument it does not know, naming it, instead of running the full bench', () => {
    // Act
    const parse = () => parseBenchArgs(['--idle-scan', '--idle']);
    // Assert
    expect(parse).toThrow(BenchUsageError);
    expect(parse).toThrow('unknown argument(s) --idle;');
  });

  it('takes --help and lists every flag it accepts', () => {
    // Act
    const flags = parseBenchArgs(['--help']);
    // Assert
    expect(flags.has('--help')).toBe(true);
    for (const flag of [
      '--quick',
      '--cold-start',
      '--idle-scan',
      '--storm',
      '--calls',
      '--org-scan',
      '--write',
    ])
      expect(benchUsage()).toContain(flag);
  });
});
