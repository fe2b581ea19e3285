/**
 * The held-out CloudTrail corpora (events/heldout/<name>/, each with its README): records the onCloudTrail
 * detections were not built from, each with the label an on-call engineer gave it before any replay.
 * `npm run heldout` and test/package/heldout.package.test.ts read them from here: the records as
 * EventBridge delivers them, and the four figures docs/heldout.md sets as the bar.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EVENTS_DIR } from './events.ts';

const HELDOUT_ROOT = join(EVENTS_DIR, 'heldout');

/** The first corpus, replayed when no other is named. */
export const HELDOUT_DIR = join(HELDOUT_ROOT, 'cloudtrail');

/** Every corpus under events/heldout/ (a directory with a labels.tsv), the first one first. */
export function heldoutCorpora(): string[] {
  const others = readdirSync(HELDOUT_ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(HELDOUT_ROOT, d.name, 'labels.tsv')))
    .map((d) => join(HELDOUT_ROOT, d.name))
    .filter((dir) => dir !== HELDOUT_DIR)
    .sort();
  return [HELDOUT_DIR, ...others];
}

/**
 * The corpus `--corpus <dir>` (or `--corpus=<dir>`) names in `args`, resolved against `cwd`; the first
 * corpus when none is named. Throws naming `--corpus` when the directory is missing or has no labels.
 */
export function corpusDirFrom(args: readonly string[], cwd = process.cwd()): string {
  const at = args.findIndex((a) => a === '--corpus' || a.startsWith('--corpus='));
  if (at < 0) return HELDOUT_DIR;
  const arg = args[at] ?? '';
  const given = arg.startsWith('--corpus=') ? arg.slice('--corpus='.length) : args[at + 1];
  if (!given || given.startsWith('--')) {
    throw new Error('--corpus needs a directory, e.g. --corpus events/heldout/invictus');
  }
  const dir = resolve(cwd, given);
  if (!existsSync(join(dir, 'labels.tsv'))) throw new Error(`--corpus ${given}: no labels.tsv there`);
  return dir;
}

export type OnCallLabel = 'page' | 'review' | 'neither';

export interface HeldoutRecord {
  /** `<file>#<line>`, the key of labels.tsv. */
  id: string;
  label: OnCallLabel;
  /** Whether EventBridge could deliver it to a rule on the default bus at all (labels.tsv says why not). */
  deliverable: boolean;
  /** Where the record comes from, as the corpus README defines it (the first: `lab` or `doc`). */
  origin: string;
  reason: string;
  record: Record<string, unknown>;
}

/** A 12-digit account for records whose own is a placeholder (never one the corpus names). */
export const PLACEHOLDER_ACCOUNT = '246813579024';

const LABELS = new Set<string>(['page', 'review', 'neither']);

/** Every record of the corpus with its label; throws naming the record when a label is missing or bad. */
export function loadHeldoutCorpus(dir = HELDOUT_DIR): HeldoutRecord[] {
  const labels = new Map<string, string[]>();
  const [header, ...rows] = readFileSync(join(dir, 'labels.tsv'), 'utf8').split('\n').filter(Boolean);
  if (header !== 'record\tlabel\tdeliverable\torigin\treason')
    throw new Error(`labels.tsv: unexpected header ${header}`);
  for (const row of rows) {
    const [id, ...rest] = row.split('\t');
    if (!id || rest.length !== 4) throw new Error(`labels.tsv: a row needs 5 tab-separated fields: ${row}`);
    if (labels.has(id)) throw new Error(`labels.tsv: ${id} is labelled twice`);
    labels.set(id, rest);
  }
  const records: HeldoutRecord[] = [];
  for (const source of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(join(dir, source.name))
      .filter((f) => f.endsWith('.log'))
      .sort()) {
      const lines = readFileSync(join(dir, source.name, file), 'utf8')
        .split('\n')
        .filter((l) => l.trim());
      lines.forEach((line, i) => {
        const id = `${file}#${i + 1}`;
        const label = labels.get(id);
        if (!label) throw new Error(`labels.tsv: no label for ${id}`);
        const [onCall, deliverable, origin, reason] = label as [string, string, string, string];
        if (!LABELS.has(onCall))
          throw new Error(`labels.tsv: ${id} label must be page, review or neither: ${onCall}`);
        if (deliverable !== 'yes' && deliverable !== 'no') {
          throw new Error(`labels.tsv: ${id} deliverable must be yes or no: ${deliverable}`);
        }
        labels.delete(id);
        records.push({
          id,
          label: onCall as OnCallLabel,
          deliverable: deliverable === 'yes',
          origin,
          reason,
          record: JSON.parse(line) as Record<string, unknown>,
        });
      });
    }
  }
  if (labels.size > 0)
    throw new Error(`labels.tsv labels records the corpus lacks: ${[...labels.keys()].join(', ')}`);
  return records;
}

/**
 * The event EventBridge delivers for a record (https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html):
 * detail-type from eventType (a record without one is an API call, or a sign-in when it is ConsoleLogin),
 * source from eventSource, account from recipientAccountId, region from awsRegion, time from eventTime.
 * A placeholder account the sources wrote (`000000000`, `redacted`, ...) becomes PLACEHOLDER_ACCOUNT.
 */
export function asDeliveredEvent(id: string, original: Record<string, unknown>): Record<string, unknown> {
  const record = withAccount(original);
  const identity = (record.userIdentity ?? {}) as { accountId?: string };
  const eventType = typeof record.eventType === 'string' ? record.eventType.toLowerCase() : undefined;
  const detailType =
    eventType === 'awsconsolesignin' || (eventType === undefined && record.eventName === 'ConsoleLogin')
      ? 'AWS Console Sign In via CloudTrail'
      : eventType === 'awsserviceevent'
        ? 'AWS Service Event via CloudTrail'
        : 'AWS API Call via CloudTrail';
  // A stable UUID per record, as EventBridge gives each event its own.
  const hash = createHash('sha256').update(`heldout/${id}`).digest('hex');
  return {
    version: '0',
    id: [
      hash.slice(0, 8),
      hash.slice(8, 12),
      `4${hash.slice(13, 16)}`,
      `8${hash.slice(17, 20)}`,
      hash.slice(20, 32),
    ].join('-'),
    'detail-type': detailType,
    source: `aws.${String(record.eventSource).replace(/\.amazonaws\.com$/, '')}`,
    account: record.recipientAccountId ?? identity.accountId,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

/** The record with a non-12-digit account (a placeholder) replaced wherever it stands for the account. */
function withAccount(record: Record<string, unknown>): Record<string, unknown> {
  const identity = (record.userIdentity ?? {}) as { accountId?: unknown };
  const own = record.recipientAccountId ?? identity.accountId;
  if (typeof own !== 'string' || /^\d{12}$/.test(own)) return record;
  if (/^\d+$/.test(own)) {
    // Only the whole number: `000000000` must not eat into `i-00000000000000000`.
    const text = JSON.stringify(record).replace(
      new RegExp(`(?<![0-9])${own}(?![0-9])`, 'g'),
      PLACEHOLDER_ACCOUNT,
    );
    return JSON.parse(text) as Record<string, unknown>;
  }
  const copy = structuredClone(record);
  copy.recipientAccountId = PLACEHOLDER_ACCOUNT;
  if (copy.userIdentity && typeof copy.userIdentity === 'object') {
    (copy.userIdentity as Record<string, unknown>).accountId = PLACEHOLDER_ACCOUNT;
  }
  return copy;
}

/** What became of one record: not routed, or routed and then paged, recorded, ignored, or failed. */
export type ReplayOutcome =
  | { routed: false }
  | { routed: true; action: 'page' | 'record' | 'none'; detection?: string }
  | { routed: true; action: 'failed'; error: string };

export interface Figure {
  name: string;
  /** Records counted in the numerator, of `of`. */
  hits: number;
  of: number;
  /** The done-when's bound, as a fraction, and which way it goes. */
  bound: number;
  atLeast: boolean;
  /** The records that count against the figure (missed pages, unrecorded reviews, pages of the rest, failures). */
  misses: string[];
}

/** The four figures of docs/heldout.md over the deliverable records. */
export function heldoutFigures(records: HeldoutRecord[], outcomes: Map<string, ReplayOutcome>): Figure[] {
  const deliverable = records.filter((r) => r.deliverable);
  const actionOf = (r: HeldoutRecord) => {
    const o = outcomes.get(r.id);
    if (!o) throw new Error(`no outcome for ${r.id}`);
    return o.routed ? o.action : 'not routed';
  };
  const of = (label: OnCallLabel) => deliverable.filter((r) => r.label === label);
  const figure = (
    name: string,
    pool: HeldoutRecord[],
    counts: (action: string) => boolean,
    bound: number,
    atLeast: boolean,
  ): Figure => {
    const hits = pool.filter((r) => counts(actionOf(r)));
    const misses = (atLeast ? pool.filter((r) => !counts(actionOf(r))) : hits).map((r) => r.id);
    return { name, hits: hits.length, of: pool.length, bound, atLeast, misses };
  };
  const routed = records.filter((r) => outcomes.get(r.id)?.routed);
  return [
    figure('wanted pages paged', of('page'), (a) => a === 'page', 0.9, true),
    figure(
      'review records recorded or paged',
      of('review'),
      (a) => a === 'page' || a === 'record',
      0.6,
      true,
    ),
    figure('the rest paged', of('neither'), (a) => a === 'page', 0.01, false),
    {
      name: 'routed records that failed',
      hits: routed.filter((r) => actionOf(r) === 'failed').length,
      of: routed.length,
      bound: 0,
      atLeast: false,
      misses: routed.filter((r) => actionOf(r) === 'failed').map((r) => r.id),
    },
  ];
}

/** Whether a figure meets its bound. */
export function holds(f: Figure): boolean {
  const share = f.of === 0 ? 0 : f.hits / f.of;
  return f.atLeast ? f.of > 0 && share >= f.bound : share <= f.bound;
}
