/**
 * One mock kit: every client tools/awsClients.ts finds (every export of shared/aws and a function's own
 * client) gets an aws-sdk-client-mock stub, so nothing a handler calls can leave the process unmocked,
 * and a client added to shared/aws is mocked without touching any test.
 *
 * The stubs replace `send` on each client's class (its prototype), not on the instance: the instances
 * keep their own `send` from boundToInvocation, which adds the invocation's abort signal and then
 * calls the prototype's. Two exports of one class (shared/aws/ssm.ts and parameters.ts both hold an
 * SSMClient) share one stub, as a class mock always did.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { ActionLogEntry } from '#shared/state/actionLog.ts';
import { type AwsClientExport, loadAwsClients } from './awsClients.ts';

type Stub = ReturnType<typeof mockClient>;
type ClientClass = abstract new (...args: never[]) => unknown;

/** A call a stub received: the client's class and the command's name, `EC2Client` and `StopInstancesCommand`. */
export interface MockedCall {
  client: string;
  command: string;
}

export interface AwsMocks {
  /** The kit's stub of a client class (typed as mockClient types it); throws for a class it did not mock. */
  of: typeof mockClient;
  /** Every stub, one per client class. */
  stubs: readonly Stub[];
  /** The stub behind each exported client, keyed `shared/aws/ssm.ts#ssm`. */
  byExport: ReadonlyMap<string, Stub>;
  /** The clients found, as tools/awsClients.ts loaded them. */
  clients: readonly AwsClientExport[];
  /** Forgets every answer and call (each test arranges its own). */
  reset(): void;
  /** Forgets every call, keeping the answers. */
  resetHistory(): void;
  /** Puts every client's own send back. */
  restore(): void;
  /** Every call every stub received since the last reset, client by client. */
  calls(): MockedCall[];
  /**
   * The action-log entries written since the last reset: those written alone (a BatchWrite of the document
   * client), then those written with the delivery's completion (a TransactWriteItems, marshalled).
   */
  actionLog(): ActionLogEntry[];
  /**
   * Answers the state table as an empty table would: every conditional write succeeds (a counter
   * update returns 0 repeats), every read finds nothing. A test then overrides the calls it is about.
   */
  answerAsEmptyStateTable(): void;
}

const classOf = (client: object) => client.constructor as ClientClass;

/** Mocks every client the functions use. Call at a test file's top level (or in beforeAll). */
export async function mockAwsClients(): Promise<AwsMocks> {
  const clients = await loadAwsClients();
  const stubsByClass = new Map<ClientClass, Stub>();
  const byExport = new Map<string, Stub>();
  for (const exported of clients) {
    const type = classOf(exported.client);
    let stub = stubsByClass.get(type);
    if (!stub) {
      stub = mockClient(type as unknown as Parameters<typeof mockClient>[0]);
      stubsByClass.set(type, stub);
    }
    byExport.set(`${exported.module}#${exported.name}`, stub);
  }
  const stubs = [...stubsByClass.values()];
  const of = ((client: object) => {
    const type = typeof client === 'function' ? (client as ClientClass) : classOf(client);
    const stub = stubsByClass.get(type);
    if (!stub) {
      throw new Error(
        `mockAwsClients: ${type.name} is not a client exported by shared/aws or a function's client module`,
      );
    }
    return stub;
  }) as typeof mockClient;
  return {
    of,
    stubs,
    byExport,
    clients,
    reset: () => {
      for (const stub of stubs) stub.reset();
    },
    resetHistory: () => {
      for (const stub of stubs) stub.resetHistory();
    },
    restore: () => {
      for (const stub of stubs) stub.restore();
    },
    calls: () =>
      stubs.flatMap((stub) =>
        stub.calls().map((call) => ({
          client: stub.clientName(),
          command: String((call.args[0] as object).constructor.name),
        })),
      ),
    answerAsEmptyStateTable: () => {
      of(DynamoDBClient)
        .on(PutItemCommand)
        .resolves({})
        .on(UpdateItemCommand)
        .resolves({ Attributes: { repeats: { N: '0' } } })
        .on(GetItemCommand)
        .resolves({})
        .on(DeleteItemCommand)
        .resolves({})
        .on(TransactWriteItemsCommand)
        .resolves({});
      of(DynamoDBDocumentClient)
        .on(GetCommand)
        .resolves({})
        .on(PutCommand)
        .resolves({})
        .on(UpdateCommand)
        .resolves({ Attributes: { repeats: 0 } })
        .on(DeleteCommand)
        .resolves({})
        .on(BatchWriteCommand)
        .resolves({})
        .on(TransactWriteCommand)
        .resolves({});
    },
    actionLog: () => {
      const alone = of(DynamoDBDocumentClient)
        .commandCalls(BatchWriteCommand)
        .flatMap((c) => Object.values(c.args[0].input.RequestItems ?? {}).flat())
        .map((request) => request.PutRequest?.Item);
      const withCompletion = of(DynamoDBClient)
        .commandCalls(TransactWriteItemsCommand)
        .flatMap((c) => c.args[0].input.TransactItems ?? [])
        .map((item) => (item.Put?.Item ? unmarshall(item.Put.Item) : undefined));
      return [...alone, ...withCompletion].filter((item): item is ActionLogEntry => item?.type === 'action');
    },
  };
}
