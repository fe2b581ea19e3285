/**
 * The generated block of docs/performance.md: `npm run bench` replaces what lies between the two
 * markers with its figures, the date and the machine; the hand-written prose around it is kept.
 * Each part of the bench hands in a section (a title and markdown lines), so a new table is one more
 * entry in the list given to `writeBenchBlock`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export const BLOCK_START = '<!-- bench:start - written by `npm run bench`; edits inside are replaced -->';
export const BLOCK_END = '<!-- bench:end -->';

/** One part of the bench's output, as it appears in the page. */
export interface BenchSection {
  title: string;
  /** Markdown: a table, or lines the writer fences as text. */
  lines: string[];
  fenced?: boolean;
}

/** Where the figures were measured: on a shared machine the load is part of the figure. */
export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadAverage: [number, number, number];
}

export function thisMachine(): Machine {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    loadAverage: [one, five, fifteen],
  };
}

export interface BenchRun {
  date: Date;
  machine: Machine;
  /** How it was run, e.g. `npm run bench` or `npm run bench -- --quick`. */
  command: string;
  sections: BenchSection[];
}

/** When, how and on what the figures were measured: on a shared machine the load is part of the figure. */
function stamp(run: BenchRun): string {
  const { machine } = run;
  const load = machine.loadAverage.map((l) => l.toFixed(2)).join(', ');
  return (
    `Measured ${run.date.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${run.command}\` on ` +
    `${machine.cores} cores (${machine.cpuModel}), Node ${machine.node}, load average ${load} at start.`
  );
}

const PREAMBLE =
  'Each section below says when, how and on what machine it was measured: a run rewrites the sections of ' +
  'the parts it ran and keeps the others.';

/** The block for one run: each of its sections under its title, with the run's date, command and machine. */
export function renderBenchBlock(run: BenchRun): string {
  const out = [BLOCK_START, '', PREAMBLE];
  for (const section of run.sections) {
    out.push('', `### ${section.title}`, '', stamp(run), '');
    if (section.fenced) out.push('```text', ...section.lines, '```');
    else out.push(...section.lines);
  }
  out.push('', BLOCK_END);
  return out.join('\n');
}

/** A section's part: its title without the size in brackets ("Event storm (1000 deliveries)"). */
const partOf = (title: string) => title.replace(/\s*\(.*\)\s*$/, '');

/** The `### ` sections of a block's inside, each as its text from its heading on. */
function sectionsOf(inside: string): { part: string; text: string }[] {
  return inside
    .split(/\n(?=### )/)
    .filter((chunk) => chunk.startsWith('### '))
    .map((chunk) => ({
      part: partOf(chunk.slice(4, chunk.indexOf('\n') === -1 ? undefined : chunk.indexOf('\n'))),
      text: chunk.trimEnd(),
    }));
}

/**
 * The page with the new block's sections written into its generated block: a part measured again is
 * replaced where it stood, a new part appended, the others kept (a partial run, e.g. `--storm --write`,
 * leaves the cold-start figures of an earlier one). The block is appended at the end when the page has
 * none yet. A page with one marker and not the other is refused rather than guessed at: prose could be
 * lost.
 */
export function withBenchBlock(page: string, block: string): string {
  const start = page.indexOf(BLOCK_START);
  const end = page.indexOf(BLOCK_END);
  if (start === -1 && end === -1) return `${page.trimEnd()}\n\n${block}\n`;
  if (start === -1 || end === -1 || end < start) {
    throw new Error(
      `the generated block of the page is damaged: it needs both "${BLOCK_START}" and "${BLOCK_END}", in that order`,
    );
  }
  const inner = (text: string) =>
    text.slice(text.indexOf(BLOCK_START) + BLOCK_START.length, text.indexOf(BLOCK_END));
  const fresh = sectionsOf(inner(block));
  const kept = sectionsOf(page.slice(start + BLOCK_START.length, end)).map(
    (old) => fresh.find((s) => s.part === old.part) ?? old,
  );
  const added = fresh.filter((s) => !kept.includes(s));
  const merged = [
    BLOCK_START,
    '',
    PREAMBLE,
    ...[...kept, ...added].flatMap((s) => ['', s.text]),
    '',
    BLOCK_END,
  ];
  return page.slice(0, start) + merged.join('\n') + page.slice(end + BLOCK_END.length);
}

export function writeBenchBlock(path: string, run: BenchRun): void {
  writeFileSync(path, withBenchBlock(readFileSync(path, 'utf8'), renderBenchBlock(run)));
}

/** Progress lines (`[12 s] ...`, `[storm 3 s] ...`) belong to the terminal, not to the page. */
const PROGRESS = /^\[(storm )?\d+ s\]/;

/** Runs `part` with console.log teed: printed as before, and returned as the lines it printed. */
export async function capturePrinted<T>(part: () => Promise<T> | T): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => {
    log(...args);
    const text = args.map(String).join(' ');
    lines.push(...text.split('\n').filter((l) => !PROGRESS.test(l)));
  };
  try {
    return { result: await part(), lines: trimBlank(lines) };
  } finally {
    console.log = log;
  }
}

/** Printed output split into lines, progress lines and blank edges left out. */
export function printedLines(output: string): string[] {
  return trimBlank(output.split('\n').filter((l) => !PROGRESS.test(l)));
}

function trimBlank(lines: string[]): string[] {
  const from = lines.findIndex((l) => l.trim() !== '');
  if (from === -1) return [];
  let to = lines.length;
  while (to > from && (lines[to - 1] ?? '').trim() === '') to--;
  return lines.slice(from, to);
}
