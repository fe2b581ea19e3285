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
 * The session name an assumed role carries in the member account's CloudTrail: the function's deployed
 * name (`ops-autopilot-<stage>-<function>`), the same for every event. The credentials are cached an hour
 * and shared by the events of that hour, so a session named after one event would attribute the others'
 * actions to it; which event an action was for is in the central action log instead, each entry naming
 * the account and this session (shared/state/actionLog.ts). Characters STS refuses are replaced, and it
 * is cut to STS's 64.
 */
export function sessionNameOf(functionName: string): string {
  return functionName.replace(SESSION_NAME_REFUSED, '-').slice(0, SESSION_NAME_MAX);
}

/** The ARN CloudTrail names a member session's calls with (its userIdentity.arn). */
export function assumedRoleArnOf(roleArn: string, sessionName: string): string {
  return `${roleArn.replace(':iam:', ':sts:').replace(':role/', ':assumed-role/')}/${sessionName}`;
}

interface Cached {
  credentials: Promise<AwsCredentialIdentity>;
  /** Epoch ms after which they are asked for again; Infinity while the first request is in flight. */
  refreshAfter: number;
}

/** Per role and session name: a process runs one function, so one session per role in Lambda. */
const bySession = new Map<string, Cached>();
const providers = new Map<string, AwsCredentialIdentityProvider>();

async function assume(roleArn: string, sessionName: string): Promise<AwsCredentialIdentity> {
  const { sts, AssumeRoleCommand } = await import('#shared/aws/sts.ts');
  const answer = await sts.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: sessionName,
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
function cachedCredentials(roleArn: string, sessionName: string): Promise<AwsCredentialIdentity> {
  const key = `${roleArn} ${sessionName}`;
  const hit = bySession.get(key);
  if (hit && Date.now() < hit.refreshAfter) return hit.credentials;
  const entry: Cached = { credentials: assume(roleArn, sessionName), refreshAfter: Number.POSITIVE_INFINITY };
  bySession.set(key, entry);
  entry.credentials.then(
    (credentials) => {
      const expiry = credentials.expiration?.getTime() ?? Date.now() + SESSION_SECONDS * 1000;
      entry.refreshAfter = expiry - REFRESH_BEFORE_EXPIRY_MS;
    },
    () => {
      // A failed AssumeRole is not kept: the next call asks STS again.
      if (bySession.get(key) === entry) bySession.delete(key);
    },
  );
  return entry.credentials;
}

/**
 * The credentials provider of a member role under `sessionName` (sessionNameOf: the function's), one per
 * role and session (so one per account in a function): the SDK clients built for that account in any
 * region share it, and with it one AssumeRole until shortly before expiry.
 */
export function memberCredentials(roleArn: string, sessionName: string): AwsCredentialIdentityProvider {
  const key = `${roleArn} ${sessionName}`;
  let provider = providers.get(key);
  if (provider === undefined) {
    provider = () => cachedCredentials(roleArn, sessionName);
    providers.set(key, provider);
  }
  return provider;
}

/** Tests start each case with no credentials cached. */
export function resetMemberCredentialsForTests(): void {
  bySession.clear();
  providers.clear();
}
