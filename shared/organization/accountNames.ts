import type { Intent, Plan } from '#shared/domain/intent.ts';
import { logger } from '#shared/runtime/powertools.ts';

/**
 * A member account's name for its pages (Organizations DescribeAccount), kept an hour per account: names
 * rarely change, and a page must not wait on them. The central account may read it only where the
 * organization lets it (the management account, or an Organizations delegation policy): a name that
 * cannot be read is left out, and the page goes out with the account's id alone.
 */
const NAME_MAX_AGE_MS = 3600_000;
const names = new Map<string, { name: Promise<string | undefined>; until: number }>();

async function describe(account: string): Promise<string | undefined> {
  try {
    const { organizations, DescribeAccountCommand } = await import('#shared/aws/organizations.ts');
    const answer = await organizations.send(new DescribeAccountCommand({ AccountId: account }));
    // An account name is at most 50 characters; anything longer is not one.
    const name = answer.Account?.Name;
    return name && name.length <= 50 ? name : undefined;
  } catch (error) {
    logger.warn('account name unreadable: paging with its id alone', { account, error });
    return undefined;
  }
}

export function accountNameOf(account: string): Promise<string | undefined> {
  const hit = names.get(account);
  if (hit && Date.now() < hit.until) return hit.name;
  const entry = { name: describe(account), until: Date.now() + NAME_MAX_AGE_MS };
  names.set(account, entry);
  // An unreadable name is asked for again next time.
  entry.name.then((name) => {
    if (name === undefined && names.get(account) === entry) names.delete(account);
  });
  return entry.name;
}

/** Tests start each case with no names kept. */
export function resetAccountNamesForTests(): void {
  names.clear();
}

/** How a member's pages name its account, where Organizations lets it be read (ouPaths.ts for the path). */
export interface AccountLabels {
  name?: string;
  ouPath?: string;
}

/** The plan's pages with the member account's name and OU path first in their evidence (pure). */
export function withAccountLabels<I extends Intent, F>(plan: Plan<I, F>, labels: AccountLabels): Plan<I, F> {
  const lines = {
    ...(labels.name ? { 'account name': labels.name } : {}),
    ...(labels.ouPath ? { 'OU path': labels.ouPath } : {}),
  };
  if (Object.keys(lines).length === 0) return plan;
  const intents = plan.intents.map((intent) =>
    intent.kind === 'sns.page'
      ? ({
          ...intent,
          content: { ...intent.content, evidence: { ...lines, ...intent.content.evidence } },
        } as I)
      : intent,
  );
  return { ...plan, intents };
}
