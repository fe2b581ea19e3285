/**
 * Counts this process's state-table calls as DynamoDB receives them: one per request (an SDK retry is
 * another), documents' commands included (they share the client's middleware stack). Each call keeps
 * the record keys it wrote, so a test can tell which records one round trip carried. Call after the
 * handler is imported (the client is built on import).
 */
export interface StateCall {
  /** `PutItem`, `TransactWriteItems`, ... */
  operation: string;
  /** The `id` of every record the call writes or checks (a read's key too). */
  ids: string[];
}

export interface StateCallCounter {
  calls(): StateCall[];
  /** Calls since the last reset, by operation. */
  byOperation(): Record<string, number>;
  reset(): void;
}

type Key = { id?: { S?: string } };
interface Written {
  Key?: Key;
  Item?: Key;
}

/** The ids a low-level request names: its key or item, a batch's or a transaction's items. */
export function idsOf(input: Record<string, unknown>): string[] {
  const one = (w: Written | undefined) => w?.Key?.id?.S ?? w?.Item?.id?.S;
  const ids: (string | undefined)[] = [one(input as Written)];
  for (const requests of Object.values((input.RequestItems ?? {}) as Record<string, unknown[]>)) {
    for (const r of requests as { PutRequest?: Written; DeleteRequest?: Written }[]) {
      ids.push(one(r.PutRequest) ?? one(r.DeleteRequest));
    }
  }
  for (const item of (input.TransactItems ?? []) as Record<string, Written>[]) {
    for (const part of Object.values(item)) ids.push(one(part));
  }
  return ids.filter((id): id is string => id !== undefined);
}

export async function countStateTableCalls(): Promise<StateCallCounter> {
  const { dynamodb } = await import('#shared/aws/dynamodb.ts');
  let calls: StateCall[] = [];
  dynamodb.middlewareStack.add(
    (next, context) => (args) => {
      calls.push({
        operation: String(context.commandName ?? 'unknown').replace(/Command$/, ''),
        ids: idsOf(args.input as Record<string, unknown>),
      });
      return next(args);
    },
    // After the retry middleware: each attempt counts.
    { step: 'finalizeRequest', priority: 'low', name: 'stateTableCallCounterForTests' },
  );
  return {
    calls: () => [...calls],
    byOperation: () => {
      const counts: Record<string, number> = {};
      for (const c of calls) counts[c.operation] = (counts[c.operation] ?? 0) + 1;
      return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
    },
    reset: () => {
      calls = [];
    },
  };
}
