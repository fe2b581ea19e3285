import { createRequire } from 'node:module';
import { afterAll, vi } from 'vitest';
import { resetTrailLogBucketsForTests } from '#functions/onCloudTrail/trailLogBuckets.ts';
import { forgetMemberClientsForTests } from '#shared/aws/client.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetAccountNamesForTests } from '#shared/organization/accountNames.ts';
import { resetMemberCredentialsForTests } from '#shared/organization/credentials.ts';
import { resetOuPathsForTests } from '#shared/organization/ouPaths.ts';
import { resetServedAccountsForTests } from '#shared/organization/servedAccounts.ts';
import { resetChangeFreezeForTests } from '#shared/runtime/changeFreeze.ts';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';

/**
 * Set-up of every file that shares its worker with the files before and after it (the `unit` and
 * `handler` projects of vitest.config.ts, isolate: false): what a file changed in the process is put
 * back after it, so the next file starts as in a fresh worker. The environment (and the configuration
 * read from it), the clock, and the class stubs of aws-sdk-client-mock, which replace `send` on a
 * client's prototype for every later file until restored; and what the handlers' modules keep for a
 * warm container (the kill switch, the change calendars, the trails' log buckets, and an organization's
 * member credentials, OU paths, account names and served accounts).
 */
const environment = { ...process.env };
// aws-sdk-client-mock stubs through sinon's default sandbox: its own copy of sinon, not one of ours.
const sinon = createRequire(createRequire(import.meta.url).resolve('aws-sdk-client-mock'))('sinon') as {
  restore(): void;
};

/** What runs after each file of a shared worker. */
export function putBackAfterFile(): void {
  sinon.restore();
  vi.useRealTimers();
  for (const key of Object.keys(process.env)) {
    if (!(key in environment)) delete process.env[key];
  }
  Object.assign(process.env, environment);
  resetConfigForTests();
  resetKillSwitchForTests();
  resetChangeFreezeForTests();
  resetTrailLogBucketsForTests();
  // An organization's: member credentials, OU paths, account names, served accounts (the accounts' modes
  // are read as the kill switch is, and forgotten with it).
  resetMemberCredentialsForTests();
  resetOuPathsForTests();
  resetAccountNamesForTests();
  resetServedAccountsForTests();
  // The member clients, each built with the credentials of the file that first acted in its account.
  forgetMemberClientsForTests();
}

afterAll(putBackAfterFile);
