/** The storm bench's counters (pages, resolves, actions, calls) and its per-item state-table queue. */
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

/**
 * Sends this process's state-table calls to moto one at a time per item: a call waits for the calls
 * before it on each item it names, calls on other items go at once. A transaction goes alone: moto
 * copies every table to roll one back, which fails (HTTP 500) while another call writes. Calls that
 * name no item (a query) wait only for a transaction. Call after the handler is imported.
 */
export async function sendStateTableCallsOnePerItem(): Promise<void> {
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  const tails = new Map<string, Promise<unknown>>();
  const inFlight = new Set<Promise<unknown>>();
  let transaction: Promise<unknown> = Promise.resolve();
  dynamodb.middlewareStack.add(
    (next, context) => (args) => {
      const alone = context.commandName === 'TransactWriteItemsCommand';
      const ids = alone ? [] : idsOf(args.input as Record<string, unknown>);
      const before = alone
        ? Promise.all([transaction, ...inFlight])
        : Promise.all([transaction, ...ids.map((id) => tails.get(id))]);
      const run = before.then(() => next(args));
      const settled = run.catch(() => undefined);
      if (alone) transaction = settled;
      for (const id of ids) tails.set(id, settled);
      inFlight.add(settled);
      // Forget a call once done, so the maps stay the size of the calls in flight.
      void settled.then(() => {
        inFlight.delete(settled);
        for (const id of ids) if (tails.get(id) === settled) tails.delete(id);
      });
      return run;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'stateTableOnePerItemForBench' },
  );
}
