import type { StackInstanceSummary } from '@aws-sdk/client-cloudformation';
import type { PageIntent } from '#shared/domain/intent.ts';
import { pageIntent } from '#shared/domain/page.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { memberRolesStackSetName } from './names.ts';

/**
 * The accounts an organization's stage serves: those with an instance of the member-roles StackSet
 * that holds the member role (holdsMemberRole: current, or being updated), read with
 * ListStackInstances as the StackSets delegated administrator. Membership of the organization is not
 * enough: an account outside the listed OUs, or whose member stack failed or was
 * deleted, has no member role to assume, and acting there would fail as AccessDenied or, worse, find a
 * role someone else made with that name. Kept `organization.accountsCacheSeconds` (at most 300 s).
 */

/**
 * The operations on an OUTDATED instance that leave its existing stack as it was until they finish:
 * waiting (PENDING), under way (RUNNING), or stopped before reaching it (CANCELLED)
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackInstanceComprehensiveStatus.html).
 */
const STACK_KEPT_WHILE = new Set(['PENDING', 'RUNNING', 'CANCELLED']);

/**
 * Whether a member-roles stack instance means the member role is there
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_StackInstanceSummary.html):
 * - CURRENT: the stack matches the StackSet;
 * - OUTDATED during a StackSet update (PENDING, RUNNING) or after one was stopped (CANCELLED), when the
 *   instance has a stack (StackId): the stack, and the role of its last version, is in place, so a
 *   template update does not stop an account being served;
 * - not: OUTDATED with no stack yet (being created), FAILED (the operation may have been the stack's
 *   creation, rolled back with no role), SKIPPED_SUSPENDED_ACCOUNT, FAILED_IMPORT, and INOPERABLE
 *   (a deletion failed). Those are paged as not served until the instance is repaired.
 */
export function holdsMemberRole(instance: StackInstanceSummary): boolean {
  if (instance.Status === 'CURRENT') return true;
  const detailed = instance.StackInstanceStatus?.DetailedStatus;
  return (
    instance.Status === 'OUTDATED' &&
    Boolean(instance.StackId) &&
    detailed !== undefined &&
    STACK_KEPT_WHILE.has(detailed)
  );
}

/** A bound on the listing (100 instances a page): 10,000 accounts, far beyond an organization's quota. */
const MAX_PAGES = 100;

let cached: { stackSet: string; accounts: Promise<ReadonlySet<string>>; until: number } | undefined;

async function listServed(stackSet: string): Promise<ReadonlySet<string>> {
  const { cloudformation, ListStackInstancesCommand } = await import('#shared/aws/cloudformation.ts');
  const served = new Set<string>();
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await cloudformation.send(
      new ListStackInstancesCommand({
        StackSetName: stackSet,
        CallAs: 'DELEGATED_ADMIN',
        MaxResults: 100,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const instance of answer.Summaries ?? []) {
      if (instance.Account && holdsMemberRole(instance)) served.add(instance.Account);
    }
    token = answer.NextToken;
    if (!token) return served;
  }
  throw new Error(`ListStackInstances of ${stackSet} did not end within ${MAX_PAGES} pages`);
}

/**
 * The served accounts, from the cache while it holds them. A failed listing is not kept: the delivery
 * fails (and is retried) rather than refusing or acting on a guess.
 */
export function servedAccounts(stage: string, cacheSeconds: number): Promise<ReadonlySet<string>> {
  const stackSet = memberRolesStackSetName(stage);
  if (cached && cached.stackSet === stackSet && Date.now() < cached.until) return cached.accounts;
  const entry = { stackSet, accounts: listServed(stackSet), until: Date.now() + cacheSeconds * 1000 };
  cached = entry;
  entry.accounts.catch(() => {
    if (cached === entry) cached = undefined;
  });
  return entry.accounts;
}

/** One incident per account and UTC day: with a window of a day, the account is paged once a day. */
export const NOT_SERVED_WINDOW_MINUTES = 1440;

/** The page saying an account's events reach the central stack but are not acted on. */
export function notServedPage(
  signal: Signal,
  account: string,
  stage: string,
  nowMs = Date.now(),
): PageIntent {
  const day = new Date(nowMs).toISOString().slice(0, 10);
  const stackSet = memberRolesStackSetName(stage);
  const page = pageIntent(signal, {
    notice: 'incident',
    severity: 'high',
    reason: `account ${account} is not served: it has no current (or updating) instance of the StackSet ${stackSet}`,
    nothingDone: `Nothing, for any event of account ${account} until it has a current ${stackSet} instance (move it into one of organization.ous, or repair its stack instance). This page is sent once a day.`,
    say: {
      title: `account ${account} is not served`,
      summary: `An event of account ${account} (${signal.title}) reached the organization's bus, but the account has no current member stack: nothing was read or done there.`,
      resources: [{ type: 'aws account', id: account }],
      evidence: { account, stackSet, event: signal.correlationId },
    },
  });
  return { ...page, incidentKey: `account-not-served:${account}:${day}` };
}

/** Tests start each case with nothing listed. */
export function resetServedAccountsForTests(): void {
  cached = undefined;
}
