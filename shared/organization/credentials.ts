import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * The member role's credentials, one AssumeRole per account while they last. STS AssumeRole with a small
 * cache rather than @aws-sdk/credential-providers' fromTemporaryCredentials: that one calls STS through
 * the SDK's internal nested client, out of reach of the emulator's endpoint settings and of the handler
 * tests' mocks, and it caches per provider, not per account.
 */

/** Credentials are asked for again this long before they expire, so no call runs on expiring ones. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** An hour, the member role's default maximum session: one AssumeRole per account and hour at most. */
export const SESSION_SECONDS = 3600;
/** STS's limit on RoleSessionName, and the characters it takes ([\w+=,.@-]). */
const SESSION_NAME_MAX = 64;
const SESSION_NAME_REFUSED = /[^\w+=,.@-]/g;

/**
 * The session name an assumed role carries, in the member account's CloudTrail: the run it acts for (the
 * delivery's correlation id), so a person there finds which decision it was. Characters STS refuses are
 * replaced, and it is cut to STS's 64.
 */
export function sessionNameOf(runId: string): string {
  return `ops-autopilot-${runId}`.replace(SESSION_NAME_REFUSED, '-').slice(0, SESSION_NAME_MAX);
}

interface Cached {
  credentials: Promise<AwsCredentialIdentity>;
  /** Epoch ms after which they are asked for again; Infinity while the first request is in flight. */
  refreshAfter: number;
}

const byRole = new Map<string, Cached>();
/** The latest run acting through each role: a refresh carries its session name. */
const sessionByRole = new Map<string, string>();
const providers = new Map<string, AwsCredentialIdentityProvider>();

async function assume(roleArn: string): Promise<AwsCredentialIdentity> {
  const { sts, AssumeRoleCommand } = await import('#shared/aws/sts.ts');
  const answer = await sts.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: sessionByRole.get(roleArn) ?? sessionNameOf('refresh'),
      DurationSeconds: SESSION_SECONDS,
    }),
  );
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new Error(`STS AssumeRole answered no credentials for ${roleArn}`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    ...(c.Expiration ? { expiration: c.Expiration } : {}),
  };
}

/** The cached credentials of `roleArn`, assumed again shortly before they expire (or when a request failed). */
function cachedCredentials(roleArn: string): Promise<AwsCredentialIdentity> {
  const hit = byRole.get(roleArn);
  if (hit && Date.now() < hit.refreshAfter) return hit.credentials;
  const entry: Cached = { credentials: assume(roleArn), refreshAfter: Number.POSITIVE_INFINITY };
  byRole.set(roleArn, entry);
  entry.credentials.then(
    (credentials) => {
      const expiry = credentials.expiration?.getTime() ?? Date.now() + SESSION_SECONDS * 1000;
      entry.refreshAfter = expiry - REFRESH_BEFORE_EXPIRY_MS;
    },
    () => {
      // A failed AssumeRole is not kept: the next call asks STS again.
      if (byRole.get(roleArn) === entry) byRole.delete(roleArn);
    },
  );
  return entry.credentials;
}

/**
 * The credentials provider of a member role, one per role (so one per account): the SDK clients built for
 * that account in any region share it, and with it one AssumeRole until shortly before expiry. `runId`
 * names the session of the next AssumeRole.
 */
export function memberCredentials(roleArn: string, runId: string): AwsCredentialIdentityProvider {
  sessionByRole.set(roleArn, sessionNameOf(runId));
  let provider = providers.get(roleArn);
  if (provider === undefined) {
    provider = () => cachedCredentials(roleArn);
    providers.set(roleArn, provider);
  }
  return provider;
}

/** Tests start each case with no credentials cached. */
export function resetMemberCredentialsForTests(): void {
  byRole.clear();
  sessionByRole.clear();
  providers.clear();
}
