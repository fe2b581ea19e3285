/**
 * Every AWS SDK client the functions call, found rather than listed: each module of shared/aws, and a
 * function's own client module (one that binds a client to the invocation, as onCostAnomaly's Budgets
 * client does). Tests, the bench and the demo take their client lists from here, so a client added to
 * shared/aws is mocked, counted and shortened everywhere without anyone remembering to.
 *
 * Neutral ground: scripts use it, and scripts do not import test/ (the local harness is tools/local/).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What a module must contain to be a function's own client module (see shared/aws/client.ts). */
const BOUND_CLIENT = 'boundToInvocation(';

/** An SDK v3 client as the functions hold it: what mocking, counting and timeouts need of it. */
export interface SdkClient {
  // biome-ignore lint/suspicious/noExplicitAny: matches the SDK's overloaded send(command, options?).
  send(command: any, options?: any): Promise<unknown>;
  middlewareStack: { add(middleware: unknown, options: unknown): void };
  config: { requestHandler?: unknown };
}

/** One exported client: `shared/aws/ssm.ts` and `ssm`, say. */
export interface AwsClientExport {
  /** The module's path from the repository root. */
  module: string;
  /** Its export's name. */
  name: string;
  client: SdkClient;
}

function isSdkClient(value: unknown): value is SdkClient {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<SdkClient>;
  return (
    typeof candidate.send === 'function' &&
    typeof candidate.middlewareStack?.add === 'function' &&
    typeof candidate.config === 'object'
  );
}

const typescriptFiles = (folder: string): string[] =>
  readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(folder, file));

/** The modules that may export a client, as paths from the repository root, sorted. */
export function awsClientModules(): string[] {
  const shared = typescriptFiles('shared/aws');
  const ownClients = typescriptFiles('functions').filter((file) =>
    readFileSync(join(ROOT, file), 'utf8').includes(BOUND_CLIENT),
  );
  return [...shared, ...ownClients].sort();
}

/** The package-import specifier the functions use for a module, so tests share its instance. */
function specifierOf(module: string): string {
  if (module.startsWith('shared/') || module.startsWith('functions/')) return `#${module}`;
  throw new Error(`awsClientModules: ${module} is outside shared/ and functions/`);
}

/**
 * Imports every client module and returns each exported client. Call it again after
 * `vi.resetModules()` to reach the fresh instances the next handler import builds.
 */
export async function loadAwsClients(): Promise<AwsClientExport[]> {
  const modules = awsClientModules();
  const loaded = await Promise.all(
    modules.map(async (module) => ({
      module,
      exports: (await import(specifierOf(module))) as Record<string, unknown>,
    })),
  );
  // A module may re-export another's client (ec2Actions.ts re-exports ec2): each instance once, under
  // the module that builds it (modules are sorted, so ec2.ts comes before ec2Actions.ts).
  const seen = new Set<unknown>();
  return loaded.flatMap(({ module, exports }) =>
    Object.entries(exports).flatMap(([name, value]) => {
      if (!isSdkClient(value) || seen.has(value)) return [];
      seen.add(value);
      return [{ module, name, client: value }];
    }),
  );
}
