import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type BenchRun,
  BLOCK_END,
  BLOCK_START,
  capturePrinted,
  printedLines,
  renderBenchBlock,
  withBenchBlock,
  writeBenchBlock,
} from '../../scripts/bench/report.ts';

const run = (sections: BenchRun['sections']): BenchRun => ({
  date: new Date('2026-12-06T07:15:00Z'),
  machine: { cores: 2, cpuModel: 'Test CPU @ 2.0GHz', node: 'v22.23.0', loadAverage: [1.5, 0.75, 0.25] },
  command: 'npm run bench',
  sections,
});
const stormSection = { title: 'Event storm', lines: ['pages  524', 'actions  95'], fenced: true };
const idleSection = { title: 'Idle scan', lines: ['| N | calls |', '|---|---|', '| 100 | 3 |'] };

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the generated block of docs/performance.md', () => {
  it('replaces the old figures between the markers and keeps the prose before and after word for word', () => {
    // Arrange
    const before = '# Performance\n\nHow to read the figures.\n\n';
    const after = '\n\n## Notes\n\nWhy the storm is slow.\n';
    const page = `${before}${BLOCK_START}\nold table, 2026-11-22\n${BLOCK_END}${after}`;
    // Act
    const written = withBenchBlock(page, renderBenchBlock(run([idleSection])));
    // Assert
    expect(written.startsWith(before)).toBe(true);
    expect(written.endsWith(after)).toBe(true);
    expect(written).not.toContain('old table');
    expect(written).toContain('| 100 | 3 |');
    expect(written.split(BLOCK_START)).toHaveLength(2);
    expect(written.split(BLOCK_END)).toHaveLength(2);
  });

  it('states under each section the date, the command and the machine: cores, CPU model, Node version and load average', () => {
    // Act
    const block = renderBenchBlock(run([idleSection]));
    // Assert
    expect(block).toContain(
      'Measured 2026-12-06 07:15 UTC with `npm run bench` on 2 cores (Test CPU @ 2.0GHz), Node v22.23.0, load average 1.50, 0.75, 0.25 at start.',
    );
  });

  it('writes every section it is given, in order, each under its title, text tables fenced', () => {
    // Act
    const block = renderBenchBlock(run([idleSection, stormSection]));
    // Assert
    expect(block.indexOf('### Idle scan')).toBeGreaterThan(-1);
    expect(block.indexOf('### Event storm')).toBeGreaterThan(block.indexOf('### Idle scan'));
    expect(block).toContain('| N | calls |\n|---|---|\n| 100 | 3 |');
    expect(block).toContain('```text\npages  524\nactions  95\n```');
  });

  it('gives the same page when rewritten with the same figures (a second run does not pile up blocks)', () => {
    // Arrange
    const block = renderBenchBlock(run([idleSection]));
    const once = withBenchBlock('# Performance\n\nProse.\n', block);
    // Act
    const twice = withBenchBlock(once, block);
    // Assert
    expect(twice).toBe(once);
    expect(once).toBe(`# Performance\n\nProse.\n\n${block}\n`);
  });

  it('refuses a page with one marker missing, naming both markers, instead of dropping prose', () => {
    // Arrange
    const page = `# Performance\n\n${BLOCK_START}\nold\n\nProse after, with no end marker.\n`;
    // Act
    const rewrite = () => withBenchBlock(page, renderBenchBlock(run([])));
    // Assert
    expect(rewrite).toThrow(/damaged: it needs both "<!-- bench:start.*" and "<!-- bench:end -->"/);
  });

  it('keeps the sections another run wrote: a cold-start run, then a storm run, leave both, each with its own date, command and machine', () => {
    // Arrange
    const coldStart = { title: 'Cold start (7 rounds per build)', lines: ['onAlarm  0.39'], fenced: true };
    const coldStartRun: BenchRun = {
      ...run([coldStart]),
      command: 'npm run bench -- --cold-start --write',
      machine: { ...run([]).machine, loadAverage: [0.5, 0.5, 0.5] },
    };
    const stormRun: BenchRun = {
      ...run([{ ...stormSection, title: 'Event storm (1000 deliveries)' }]),
      date: new Date('2026-12-06T09:40:00Z'),
      command: 'npm run bench -- --storm --write',
    };
    const first = withBenchBlock('# Performance\n', renderBenchBlock(coldStartRun));
    // Act
    const page = withBenchBlock(first, renderBenchBlock(stormRun));
    // Assert
    const coldStartAt = page.indexOf('### Cold start (7 rounds per build)');
    const stormAt = page.indexOf('### Event storm (1000 deliveries)');
    expect(coldStartAt).toBeGreaterThan(-1);
    expect(stormAt).toBeGreaterThan(coldStartAt);
    expect(page.slice(coldStartAt, stormAt)).toContain(
      'Measured 2026-12-06 07:15 UTC with `npm run bench -- --cold-start --write` on 2 cores (Test CPU @ 2.0GHz), Node v22.23.0, load average 0.50, 0.50, 0.50 at start.',
    );
    expect(page.slice(coldStartAt, stormAt)).toContain('onAlarm  0.39');
    expect(page.slice(stormAt)).toContain(
      'Measured 2026-12-06 09:40 UTC with `npm run bench -- --storm --write` on 2 cores (Test CPU @ 2.0GHz), Node v22.23.0, load average 1.50, 0.75, 0.25 at start.',
    );
    expect(page.split(BLOCK_START)).toHaveLength(2);
  });

  it('replaces a section of the same part measured again, whatever its size in the title', () => {
    // Arrange
    const old = withBenchBlock(
      '',
      renderBenchBlock(run([{ ...stormSection, title: 'Event storm (100 deliveries)' }])),
    );
    // Act
    const page = withBenchBlock(
      old,
      renderBenchBlock(
        run([{ title: 'Event storm (1000 deliveries)', lines: ['pages  441'], fenced: true }]),
      ),
    );
    // Assert
    expect(page).toContain('pages  441');
    expect(page).not.toContain('pages  524');
    expect(page).not.toContain('Event storm (100 deliveries)');
  });

  it('rewrites the file in place', () => {
    // Arrange
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    dirs.push(dir);
    const path = join(dir, 'performance.md');
    writeFileSync(path, `Intro.\n\n${BLOCK_START}\nold\n${BLOCK_END}\n\nOutro.\n`);
    // Act
    writeBenchBlock(path, run([stormSection]));
    // Assert
    const page = readFileSync(path, 'utf8');
    expect(page).toMatch(/^Intro\.\n\n<!-- bench:start/);
    expect(page).toContain('pages  524');
    expect(page).not.toContain('\nold\n');
    expect(page.endsWith(`${BLOCK_END}\n\nOutro.\n`)).toBe(true);
  });
});

describe('the output a bench part prints, as kept for the page', () => {
  it('keeps the tables and leaves out progress lines and blank edges', async () => {
    // Act
    const { result, lines } = await capturePrinted(() => {
      console.log('');
      console.log('[12 s] 2/3 idle scan at N = 100');
      console.log('| N |\n|---|\n| 100 |');
      console.log('');
      return 7;
    });
    // Assert
    expect(result).toBe(7);
    expect(lines).toEqual(['| N |', '|---|', '| 100 |']);
    expect(printedLines('\n[storm 3 s] replaying\npages  524\n\n')).toEqual(['pages  524']);
  });
});
