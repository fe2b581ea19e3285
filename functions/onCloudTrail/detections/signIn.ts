import type { CloudTrailEvent } from '../schema.ts';
import { changed, detection, isRoot } from './declaration.ts';
import { shown } from './formats.ts';
import { field, str } from './json.ts';

/** Sign-in: console sign-ins by root, without MFA, and failed ones. */

const consoleResult = (e: CloudTrailEvent) => str(field(e.detail.responseElements, 'ConsoleLogin'));
const SAML_PROVIDER_ARN = /^arn:aws[a-z-]*:iam::\d{12}:saml-provider\/[\w.-]{1,128}$/;
/** An IAM Identity Center session: its permission set's role, which IAM reserves (AWSReservedSSO_...). */
const IDENTITY_CENTER_SESSION =
  /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/AWSReservedSSO_[\w+=,.@-]{1,100}\//;
const IDENTITY_CENTER_ROLE =
  /^arn:aws[a-z-]*:iam::\d{12}:role\/aws-reserved\/sso\.amazonaws\.com\/([\w-]+\/)?AWSReservedSSO_[\w+=,.@-]{1,100}$/;

/** A console sign-in through a SAML provider or IAM Identity Center, read from its AWS-formatted fields only. */
function isFederatedSignIn(e: CloudTrailEvent): boolean {
  const id = e.detail.userIdentity;
  const saml = str(field(e.detail.additionalEventData, 'SamlProviderArn'));
  return (
    (saml !== undefined && SAML_PROVIDER_ARN.test(saml)) ||
    IDENTITY_CENTER_SESSION.test(id.arn ?? '') ||
    IDENTITY_CENTER_ROLE.test(id.sessionContext?.sessionIssuer?.arn ?? '')
  );
}

const SIGN_IN = { calls: ['ConsoleLogin'] };

export const rootConsoleSignIn = detection({
  name: 'root-console-sign-in',
  cis: '4.3',
  severity: 'high',
  action: 'page',
  describes: 'the root user signed in to the console',
  watches: SIGN_IN,
  match: (e) =>
    e.detail.eventName === 'ConsoleLogin' && isRoot(e) && consoleResult(e) === 'Success'
      ? {
          what: 'the root user signed in to the console',
          resource: { type: 'root user', id: e.account },
          evidence: {},
        }
      : undefined,
});

export const consoleSignInWithoutMfa = detection({
  name: 'console-sign-in-without-mfa',
  cis: '4.2',
  severity: 'high',
  action: 'page',
  describes: 'an IAM user signed in to the console without MFA (federated sign-ins are not IAM users)',
  watches: SIGN_IN,
  match: (e) => {
    if (e.detail.eventName !== 'ConsoleLogin' || consoleResult(e) !== 'Success') return undefined;
    // Only IAM users sign in with their own MFA; SAML and IAM Identity Center sessions are federated
    // (their MFA is the identity provider's), whatever type the record gives the identity.
    if (e.detail.userIdentity.type !== 'IAMUser' || isFederatedSignIn(e)) return undefined;
    const mfa = str(field(e.detail.additionalEventData, 'MFAUsed'));
    if (mfa?.toLowerCase() === 'yes') return undefined;
    const user = shown('iamName', e.detail.userIdentity.userName);
    return {
      what: `IAM user ${user} signed in to the console without MFA`,
      resource: { type: 'iam user', id: user },
      // A word such as No or false; anything else is shown as unreadable, never raw.
      evidence: {
        MFAUsed: mfa === undefined ? '(absent)' : /^[A-Za-z]{1,16}$/.test(mfa) ? mfa : '(unreadable)',
      },
    };
  },
});

export const consoleSignInFailure = detection({
  name: 'console-sign-in-failure',
  cis: '4.6',
  severity: 'warning',
  action: 'record',
  describes: 'a failed console sign-in',
  watches: SIGN_IN,
  match: (e) =>
    e.detail.eventName === 'ConsoleLogin' && consoleResult(e) === 'Failure'
      ? changed('a console sign-in failed')
      : undefined,
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const signInPaged = [rootConsoleSignIn, consoleSignInWithoutMfa] as const;
/** In the order detections.ts tries them: with the other domains' records, after every page. */
export const signInRecorded = [consoleSignInFailure] as const;
