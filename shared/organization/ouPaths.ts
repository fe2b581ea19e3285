import { logger } from '#shared/runtime/powertools.ts';

/**
 * A member account's OU path for its pages ("Root / Workloads / Prod"): Organizations ListParents from
 * the account up to the root, each OU's name by DescribeOrganizationalUnit. Kept an hour per account
 * (and each OU's name an hour, so the accounts of one OU share it), like the account's name: OUs rarely
 * move, and a page must not wait on them. Organizations answers only the management account or a
 * delegated administrator; where the organization does not let the central account read it, the page
 * goes without a path and says nothing about it, and the refusal is kept the hour too (a delegation
 * does not change by the minute), so such an organization pays one refused call per account and hour.
 */
const MAX_AGE_MS = 3600_000;
/** Organizations nests OUs at most five deep under the root: a walk longer than that is no path. */
const MAX_OU_DEPTH = 5;
/** An OU's name is 1 to 128 characters (CreateOrganizationalUnit): anything else is not one. */
const OU_NAME_MAX = 128;
const ROOT_NAME = 'Root';

const paths = new Map<string, { path: Promise<string | undefined>; until: number }>();
const ouNames = new Map<string, { name: Promise<string>; until: number }>();

/** The refusals that mean "not allowed here", kept; anything else (throttled, unreachable) is asked again. */
const isRefusal = (error: unknown): boolean =>
  error instanceof Error && /AccessDenied|AWSOrganizationsNotInUse|NotAuthorized/.test(error.name);

async function client() {
  return import('#shared/aws/organizations.ts');
}

async function parentOf(child: string): Promise<{ id: string; root: boolean }> {
  const { organizations, ListParentsCommand } = await client();
  const answer = await organizations.send(new ListParentsCommand({ ChildId: child }));
  // In the current release a child has exactly one parent.
  const [parent] = answer.Parents ?? [];
  if (!parent?.Id) throw new Error(`ListParents named no parent of ${child}`);
  return { id: parent.Id, root: parent.Type === 'ROOT' };
}

async function describeOu(ou: string): Promise<string> {
  const { organizations, DescribeOrganizationalUnitCommand } = await client();
  const answer = await organizations.send(
    new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: ou }),
  );
  const name = answer.OrganizationalUnit?.Name;
  if (!name || name.length > OU_NAME_MAX) throw new Error(`DescribeOrganizationalUnit named no OU ${ou}`);
  return name;
}

function ouNameOf(ou: string): Promise<string> {
  const hit = ouNames.get(ou);
  if (hit && Date.now() < hit.until) return hit.name;
  const entry = { name: describeOu(ou), until: Date.now() + MAX_AGE_MS };
  ouNames.set(ou, entry);
  entry.name.catch(() => {
    if (ouNames.get(ou) === entry) ouNames.delete(ou);
  });
  return entry.name;
}

/** The OU names from the root down to the account's OU; throws when the walk does not reach the root. */
async function walk(account: string): Promise<string> {
  const below: string[] = [];
  let child = account;
  for (let depth = 0; depth <= MAX_OU_DEPTH; depth++) {
    const parent = await parentOf(child);
    if (parent.root) return [ROOT_NAME, ...below].join(' / ');
    below.unshift(await ouNameOf(parent.id));
    child = parent.id;
  }
  throw new Error(`the OU path of ${account} does not reach the root within ${MAX_OU_DEPTH} OUs`);
}

async function readPath(account: string): Promise<{ path?: string; keep: boolean }> {
  try {
    return { path: await walk(account), keep: true };
  } catch (error) {
    logger.warn('OU path unreadable: paging without it', { account, error });
    return { keep: isRefusal(error) };
  }
}

/** The account's OU path, or undefined where it cannot be read (the page then goes without it). */
export function ouPathOf(account: string): Promise<string | undefined> {
  const hit = paths.get(account);
  if (hit && Date.now() < hit.until) return hit.path;
  const read = readPath(account);
  const entry = { path: read.then((r) => r.path), until: Date.now() + MAX_AGE_MS };
  paths.set(account, entry);
  read.then((r) => {
    if (!r.keep && paths.get(account) === entry) paths.delete(account);
  });
  return entry.path;
}

/** Tests start each case with no path kept. */
export function resetOuPathsForTests(): void {
  paths.clear();
  ouNames.clear();
}
