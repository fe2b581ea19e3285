/** The storm bench's counters (pages, resolves, actions, calls) and its per-item state-table queue. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { loadAwsClients } from '../../tools/awsClients.ts';
import { idsOf } from '../../tools/local/stateCalls.ts';

export interface Tally {
  pages: number;
  resolves: number;
  actions: number;
}

const ACTION_READS = /^(Describe|Get|List|Lookup|Head)/;
/** Writes to the stack's own state table and topics: pages are counted apart, state is not an action. */
const STACK_OWN_CLIENTS = new Set(['shared/aws/dynamodb.ts', 'shared/aws/sns.ts']);

/**
 * Counts pages (SNS Publish, resolve notices apart) and actions (every other non-read AWS call of the
 * functions' clients; tagging a stopped instance is part of its stop). moto has no SSM Automation:
 * StartAutomationExecution is answered here, and counted.
 */
export async function installCounters(): Promise<{ tally: Tally; calls(): number; reset(): void }> {
  const tally: Tally = { pages: 0, resolves: 0, actions: 0 };
  let calls = 0;
  // Every client, the state table's and the pages' included: the calls a delivery costs. Once per
  // middleware stack (the documents client shares the DynamoDB client's).
  type Stack = { add: (...args: unknown[]) => void };
  const stacks = new Set<Stack>();
  for (const { client } of await loadAwsClients())
    stacks.add((client as { middlewareStack: Stack }).middlewareStack);
  for (const stack of stacks) {
    stack.add(
      (next: (args: unknown) => Promise<unknown>) => (args: unknown) => {
        calls++;
        return next(args);
      },
      { step: 'initialize', name: 'stormCallCounter' },
    );
  }
  const { sns } = await import('#shared/aws/sns.ts');
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'PublishCommand') {
        const subject = String((args.input as { Subject?: string }).Subject ?? '');
        if (subject.startsWith('[RESOLVED]')) tally.resolves++;
        else tally.pages++;
      }
      return next(args);
    },
    { step: 'initialize', name: 'stormPageCounter' },
  );
  // Every client the functions use (found, not listed), but the state table's and the pages' own.
  const clients = (await loadAwsClients())
    .filter(({ module }) => !STACK_OWN_CLIENTS.has(module))
    .map(({ client }) => client);
  let execution = 0;
  // One middleware shape for every client: only the command's name is read.
  for (const client of clients as unknown as (typeof sns)[]) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const name = String(context.commandName ?? '').replace(/Command$/, '');
        if (!ACTION_READS.test(name) && name !== 'CreateTags') tally.actions++;
        if (name === 'StartAutomationExecution') {
          execution++;
          return { output: { AutomationExecutionId: `storm-${execution}`, $metadata: {} }, response: {} };
        }
        return next(args);
      },
      { step: 'initialize', name: 'stormActionCounter' },
    );
  }
  return {
    tally,
    calls: () => calls,
    reset() {
      calls = 0;
      tally.pages = 0;
      tally.resolves = 0;
      tally.actions = 0;
    },
  };
}

/** Time the state-table calls of one delivery spent held in the bench's queue, not in moto or the code. */
export interface QueueWait {
  ms: number;
  /** Its calls held right now, and since when one was: parallel calls' waits overlap, counted once. */
  holding?: number;
  since?: number;
}
const waits = new AsyncLocalStorage<QueueWait>();

/** Runs one delivery, adding to `wait` the time its state-table calls were held by the bench's queue. */
export const withQueueWait = <T>(wait: QueueWait, delivery: () => Promise<T>): Promise<T> =>
  waits.run(wait, delivery);

const KINDS = ['read', 'write', 'query', 'transaction'] as const;
type Kind = (typeof KINDS)[number];
const kindOf = (command: string, input: Record<string, unknown>): Kind => {
  if ('TransactItems' in input) return 'transaction';
  if (/^(Query|Scan)/.test(command)) return 'query';
  if (/^(Get|BatchGet)/.test(command)) return 'read';
  return 'write';
};

/**
 * Holds this process's state-table calls only where moto is not atomic, as DynamoDB is:
 * - a call on an item waits for the earlier calls on that item (moto checks a condition, then writes,
 *   with no lock between: two conditional writes on one item could both succeed);
 * - a transaction deep-copies the whole table before it writes, and a cancelled one puts that copy
 *   back, undoing every other write made meanwhile; a query walks the table, and fails (HTTP 500,
 *   "dictionary changed size") when a write adds an item under it. So transactions and queries wait
 *   for the writes in flight, and writes wait for them; transactions also wait for each other.
 * Reads of other items, and writes to other items, go at once. `global` holds every call behind every
 * call in flight (one at a time, as the emulator tests do), for comparison. Call after the handler is
 * imported.
 */
export async function sendStateTableCallsOnePerItem(mode: 'item' | 'global' = 'item'): Promise<void> {
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  const tails = new Map<string, Promise<unknown>>();
  const inFlight: Record<Kind, Set<Promise<unknown>>> = {
    read: new Set(),
    write: new Set(),
    query: new Set(),
    transaction: new Set(),
  };
  // What each kind of call must not overlap with (besides the earlier calls on its own items).
  const excludes: Record<Kind, Kind[]> = {
    read: [],
    write: ['query', 'transaction'],
    query: ['write', 'transaction'],
    transaction: ['write', 'query', 'transaction'],
  };
  dynamodb.middlewareStack.add(
    (next, context) => (args) => {
      const input = args.input as Record<string, unknown>;
      const kind = kindOf(String(context.commandName ?? ''), input);
      const ids = idsOf(input);
      const kinds = mode === 'global' ? KINDS : excludes[kind];
      const held = [...ids.map((id) => tails.get(id)), ...kinds.flatMap((k) => [...inFlight[k]])];
      const wait = waits.getStore();
      if (wait) {
        wait.holding = (wait.holding ?? 0) + 1;
        if (wait.holding === 1) wait.since = performance.now();
      }
      const run = Promise.all(held).then(() => {
        if (wait) {
          wait.holding = (wait.holding ?? 1) - 1;
          if (wait.holding === 0) wait.ms += performance.now() - (wait.since ?? performance.now());
        }
        return next(args);
      });
      const settled = run.catch(() => undefined);
      for (const id of ids) tails.set(id, settled);
      inFlight[kind].add(settled);
      // Forget a call once done, so the maps stay the size of the calls in flight.
      void settled.then(() => {
        inFlight[kind].delete(settled);
        for (const id of ids) if (tails.get(id) === settled) tails.delete(id);
      });
      return run;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'stateTableOnePerItemForBench' },
  );
}
