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
import { mockClient } from 'aws-sdk-client-mock';
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
  };
}
