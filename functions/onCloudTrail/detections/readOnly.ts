import { detection, from } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { field, list } from './json.ts';

/**
 * Read-only calls where they matter (issue 18). EventBridge delivers read-only management events only
 * to a rule in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, so these match only on a stage
 * that turns `cloudTrail.readOnlyRule` on: the main rules never deliver them.
 */

/** Secret scanners' user agents unless a stage lists its own: TruffleHog's. */
export const DEFAULT_SCANNER_USER_AGENTS = ['TruffleHog'] as const;

/**
 * A leaked key checked by a secret scanner: scanners verify an AWS key they find with
 * GetCallerIdentity under their own user agent (TruffleHog's is `TruffleHog`, see
 * https://github.com/SigmaHQ/sigma/pull/5688). The key works, and someone who is not its owner has it.
 */
export const secretScannerKeyCheck = detection({
  name: 'secret-scanner-key-check',
  severity: 'critical',
  action: 'page',
  describes:
    "`GetCallerIdentity` with a secret scanner's user agent (`cloudTrail.readOnlyRule.scannerUserAgents`): a found key was verified, so it works and has leaked (read-only rule only)",
  watches: { calls: ['GetCallerIdentity'], readOnly: true },
  match: (e, context) => {
    if (!from('sts', e) || e.detail.eventName !== 'GetCallerIdentity') return undefined;
    const agent = e.detail.userAgent ?? '';
    const scanner = (context.scannerUserAgents ?? DEFAULT_SCANNER_USER_AGENTS).find((s) => agent.includes(s));
    if (scanner === undefined) return undefined;
    // The key's id is in the page's who lines; not in this line, which the logs carry at INFO.
    return {
      what: `an access key of ${e.detail.userIdentity.arn ?? e.detail.userIdentity.type} verified by a secret scanner (${scanner}): it has leaked`,
      evidence: { scanner },
    };
  },
});

/** GetPasswordData returns a Windows instance's encrypted administrator password (Stratus Red Team's ec2-get-password-data). */
export const ec2PasswordDataRead = detection({
  name: 'ec2-password-data-read',
  severity: 'high',
  action: 'page',
  describes: "`GetPasswordData`: a Windows instance's administrator password read (read-only rule only)",
  watches: { calls: ['GetPasswordData'], readOnly: true },
  match: (e) => {
    if (!from('ec2', e) || e.detail.eventName !== 'GetPasswordData') return undefined;
    const instance = valid('instanceId', field(e.detail.requestParameters, 'instanceId'));
    return {
      what: `administrator password data of instance ${instance ?? '(unreadable)'} read`,
      ...(instance ? { resource: { type: 'ec2 instance', id: instance } } : {}),
      evidence: {},
    };
  },
});

/**
 * A secret read by a principal the stage does not list as a reader (`cloudTrail.secretReaders`). What
 * is usual cannot be learnt from one record, so the stage says it: the roles (an assumed role by its
 * role's ARN) and users that read secrets as part of their work. Calls AWS makes on its own behalf
 * (`AWSService`) are not counted.
 */
export const secretReadByUnusualPrincipal = detection({
  name: 'secret-read-by-unusual-principal',
  severity: 'high',
  action: 'page',
  describes:
    '`GetSecretValue` or `BatchGetSecretValue` by a principal not on `cloudTrail.secretReaders` (role or user ARNs; an assumed role counts as its role) (read-only rule only)',
  watches: { calls: ['GetSecretValue', 'BatchGetSecretValue'], readOnly: true },
  match: (e, context) => {
    const name = e.detail.eventName;
    if (!from('secretsmanager', e) || (name !== 'GetSecretValue' && name !== 'BatchGetSecretValue')) {
      return undefined;
    }
    const id = e.detail.userIdentity;
    if (id.type === 'AWSService') return undefined;
    const principal = id.sessionContext?.sessionIssuer?.arn ?? id.arn;
    if (principal !== undefined && context.secretReaders?.has(principal)) return undefined;
    const req = e.detail.requestParameters;
    const secrets =
      name === 'GetSecretValue'
        ? [shown('secretId', field(req, 'secretId'))]
        : list(field(req, 'secretIdList')).map((s) => shown('secretId', s));
    const shownSecrets =
      secrets.slice(0, 10).join(', ') + (secrets.length > 10 ? ` and ${secrets.length - 10} more` : '');
    return {
      what: `secret ${shownSecrets || '(by filter)'} read by ${principal ?? id.type}, not a listed secret reader`,
      evidence: { secrets: shownSecrets || undefined },
    };
  },
});

/**
 * In the order detections.ts tries them, with the other domains' pages: only the read-only rule a stage
 * may turn on delivers their calls.
 */
export const readOnlyPaged = [
  secretScannerKeyCheck,
  ec2PasswordDataRead,
  secretReadByUnusualPrincipal,
] as const;
