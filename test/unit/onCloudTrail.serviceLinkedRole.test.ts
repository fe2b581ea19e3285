import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DETECTIONS } from '#functions/onCloudTrail/detections.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { makeConfig } from '../support/config.ts';
import { type CloudTrailRecordOverrides, cloudTrailRecord } from '../support/events/index.ts';

/**
 * A call an AWS service makes through its service-linked role (path /aws-service-role/<service>/, name
 * AWSServiceRoleFor*) is recorded, naming the service, and neither paged nor remediated, unless the
 * change opens something to outsiders; a look-alike identity a person could own pages as before.
 */

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const FMS_ROLE = 'arn:aws:iam::123456789012:role/aws-service-role/fms.amazonaws.com/AWSServiceRoleForFMS';
const bySlr = (name: string, overrides: CloudTrailRecordOverrides = {}) =>
  cloudTrailRecord(`service-linked-role/${name}`, overrides);

/** A person's role session: the identity of the evidence group's WAF record, as CloudTrail logs it. */
const PERSON = cloudTrailRecord('evidence/wafv2-web-acl-disassociated').detail.userIdentity;

function decide(raw: unknown, remediate = false) {
  const config = makeConfig({
    dryRun: false,
    cloudTrail: remediate ? { detections: { 'cloudtrail-tampering': { remediate: true } } } : {},
  });
  const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return {
    signal: observation.signal,
    plan,
    decision: [plan.findings?.detection ?? null, plan.findings?.action],
    intents: plan.intents.map((i) => i.kind),
  };
}

/**
 * The FMS record as a crafted one could claim another issuer ARN: the session's ARN, account and role
 * name follow the issuer ARN, so only what a case varies differs from a consistent identity.
 */
function withIssuer(issuerArn: string, overrides: { accountId?: string; type?: string } = {}) {
  const raw = bySlr('wafv2-web-acl-disassociated-by-fms');
  const id = raw.detail.userIdentity;
  const account = issuerArn.split(':')[4] ?? '';
  const role = issuerArn.split('/').pop() ?? '';
  const sessionIssuer = {
    ...id.sessionContext?.sessionIssuer,
    arn: issuerArn,
    accountId: overrides.accountId ?? account,
    userName: role,
  };
  raw.detail.userIdentity = {
    ...id,
    type: overrides.type ?? 'AssumedRole',
    arn: `arn:aws:sts::${account}:assumed-role/${role}/FMSSession`,
    accountId: account,
    sessionContext: { ...id.sessionContext, sessionIssuer },
  };
  return raw;
}

describe('a call made by an AWS service through its service-linked role', () => {
  it.each([
    [
      'wafv2-web-acl-disassociated-by-fms',
      'security-tooling-disabled',
      'fms.amazonaws.com',
      'AWSServiceRoleForFMS',
    ],
    [
      'config-recorder-stopped-by-config',
      'config-recorder-stopped',
      'config.amazonaws.com',
      'AWSServiceRoleForConfig',
    ],
  ])('records %s as %s, naming the service, and pages nothing', (name, detection, service, role) => {
    // Act
    const { decision, intents, signal, plan } = decide(bySlr(name));
    // Assert
    expect(decision).toEqual([detection, 'record']);
    expect(intents).toEqual([]);
    expect(signal.evidence).toMatchObject({ actingService: service, serviceLinkedRole: role });
    expect(plan.notes).toEqual([
      expect.objectContaining({
        reason: 'record-only',
        withheld: 'sns.page',
        detail: expect.stringContaining(
          `made by AWS service ${service} through its service-linked role ${role}`,
        ),
      }),
    ]);
  });

  it("pages a person's identical call (the same record, a person's role session)", () => {
    // Arrange
    const raw = bySlr('wafv2-web-acl-disassociated-by-fms');
    raw.detail.userIdentity = PERSON;
    // Act
    const { decision, intents, signal } = decide(raw);
    // Assert
    expect(decision).toEqual(['security-tooling-disabled', 'page']);
    expect(intents).toEqual(['sns.page']);
    expect(signal.evidence.actingService).toBeUndefined();
  });

  it('does not remediate a trail stopped by CloudTrail through its service-linked role, and says why', () => {
    // Act
    const bySlrPlan = decide(bySlr('cloudtrail-stop-logging-by-cloudtrail'), true);
    const byPerson = decide(cloudTrailRecord('cloudtrail-stop-logging'), true);
    // Assert
    expect(bySlrPlan.decision).toEqual(['cloudtrail-tampering', 'record']);
    expect(bySlrPlan.intents).toEqual([]);
    expect(bySlrPlan.plan.notes).toContainEqual(
      expect.objectContaining({
        reason: 'out-of-scope',
        withheld: 'cloudtrail.start-logging',
        detail: expect.stringContaining('AWSServiceRoleForCloudTrail'),
      }),
    );
    // The same call by a person is undone and paged.
    expect(byPerson.intents).toEqual(['cloudtrail.start-logging', 'sns.page']);
  });

  it('pages a snapshot shared with an outside account by a service-linked role: the opening is the danger', () => {
    // Act
    const { decision, intents, signal } = decide(bySlr('ebs-snapshot-shared-by-backup'));
    // Assert
    expect(decision).toEqual(['data-shared-out', 'page']);
    expect(intents).toEqual(['sns.page']);
    // The page still says a service acted, so the on-call engineer looks for who configured it.
    expect(signal.evidence).toMatchObject({
      actingService: 'backup.amazonaws.com',
      serviceLinkedRole: 'AWSServiceRoleForBackup',
    });
  });
});

describe('an identity that only looks like a service-linked role pages as a person', () => {
  it.each([
    ['a role of another account', FMS_ROLE.replace('123456789012', '444455556666')],
    ['a role outside the service-role path', 'arn:aws:iam::123456789012:role/AWSServiceRoleForFMS'],
    [
      'a path deeper than /aws-service-role/<service>/',
      'arn:aws:iam::123456789012:role/aws-service-role/fms.amazonaws.com/x/AWSServiceRoleForFMS',
    ],
    [
      'a path under another prefix',
      'arn:aws:iam::123456789012:role/x/aws-service-role/fms.amazonaws.com/AWSServiceRoleForFMS',
    ],
    [
      'a path that is not a service principal',
      'arn:aws:iam::123456789012:role/aws-service-role/fms.example.com/AWSServiceRoleForFMS',
    ],
    [
      'a name that does not start AWSServiceRoleFor',
      'arn:aws:iam::123456789012:role/aws-service-role/fms.amazonaws.com/FmsHelper',
    ],
  ])('pages when the issuer is %s', (_case, issuerArn) => {
    // Act
    const { decision, signal } = decide(withIssuer(issuerArn));
    // Assert
    expect(decision).toEqual(['security-tooling-disabled', 'page']);
    expect(signal.evidence.actingService).toBeUndefined();
  });

  it("pages when the issuer's account field is not the record's account", () => {
    // Act
    const { decision } = decide(withIssuer(FMS_ROLE, { accountId: '444455556666' }));
    // Assert
    expect(decision).toEqual(['security-tooling-disabled', 'page']);
  });

  it('pages when the identity is not an assumed-role session', () => {
    // Act
    const { decision } = decide(withIssuer(FMS_ROLE, { type: 'IAMUser' }));
    // Assert
    expect(decision).toEqual(['security-tooling-disabled', 'page']);
  });

  it('the consistent identity these cases vary is recorded as the service', () => {
    // Act
    const { decision } = decide(withIssuer(FMS_ROLE));
    // Assert
    expect(decision).toEqual(['security-tooling-disabled', 'record']);
  });

  it("pages when the session's own ARN names another role than the issuer", () => {
    // Arrange
    const raw = bySlr('wafv2-web-acl-disassociated-by-fms', {
      userIdentity: { arn: 'arn:aws:sts::123456789012:assumed-role/DevAdministrator/AWSServiceRoleForFMS' },
    });
    // Act
    const { decision } = decide(raw);
    // Assert
    expect(decision).toEqual(['security-tooling-disabled', 'page']);
  });
});

describe('the documented exceptions', () => {
  it('docs/functions/onCloudTrail.md lists exactly the detections that page a service-linked role', () => {
    // Arrange
    const doc = readFileSync('docs/functions/onCloudTrail.md', 'utf8');
    const block =
      /<!-- service-linked-role-exceptions -->([\s\S]*?)<!-- \/service-linked-role-exceptions -->/.exec(doc);
    // Act
    const documented = [...(block?.[1] ?? '').matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1]).sort();
    const declared = DETECTIONS.filter(
      (d) => 'serviceLinkedRole' in d && d.serviceLinkedRole === 'as-for-anyone',
    )
      .map((d) => d.name)
      .sort();
    // Assert
    expect(declared.length).toBeGreaterThan(0);
    expect(documented).toEqual(declared);
  });
});
