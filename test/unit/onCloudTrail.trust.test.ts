import { describe, expect, it } from 'vitest';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { makeConfig } from '../support/config.ts';
import { type CloudTrailRecordOverrides, cloudTrailRecord } from '../support/events/index.ts';

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const fixture = (name: string, overrides: CloudTrailRecordOverrides = {}) =>
  cloudTrailRecord(`trust/${name}`, overrides);

/** What the function decides for one record on a stage: the detection, page/record/none, and what it shows. */
function decide(raw: unknown, cloudTrail: Record<string, unknown> = {}) {
  const config = makeConfig(cloudTrail ? { cloudTrail: { ...makeConfig().cloudTrail, ...cloudTrail } } : {});
  const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return {
    decision: [plan.findings?.detection ?? null, plan.findings?.action],
    finding: observation.facts.decided?.finding,
  };
}

describe('onCloudTrail precision (issue 18 item 5), on the public records that paged falsely', () => {
  it('does not page "without MFA" for a SAML console sign-in whose identity is typed IAMUser', () => {
    // Act
    const { decision } = decide(fixture('console-sign-in-saml-okta'));
    // Assert
    expect(decision).toEqual([null, 'none']);
  });

  it('does not page "without MFA" for an IAM Identity Center console sign-in', () => {
    expect(decide(fixture('console-sign-in-identity-center-sso')).decision).toEqual([null, 'none']);
  });

  it('records, never pages "turned off", a PutBucketPublicAccessBlock whose request carries no configuration', () => {
    // Act
    const { decision } = decide(fixture('s3-public-access-block-no-configuration'));
    // Assert
    expect(decision).toEqual(['s3-bucket-policy-change', 'record']);
  });
});

describe('compromised-key-quarantined', () => {
  it('pages critical when AWS attaches AWSCompromisedKeyQuarantineV2 to a user, naming the user and policy', () => {
    // Act
    const { decision, finding } = decide(fixture('iam-compromised-key-quarantine-v2'));
    // Assert
    expect(decision).toEqual(['compromised-key-quarantined', 'page']);
    expect(finding?.what).toBe('IAM user test-user quarantined by AWS: an access key leaked');
    expect(finding?.evidence).toEqual({ policyArn: 'arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2' });
  });

  it.each(['AWSCompromisedKeyQuarantine', 'AWSCompromisedKeyQuarantineV3'])('pages for %s too', (policy) => {
    // Arrange
    const raw = fixture('iam-compromised-key-quarantine-v2', {
      withRequestParameters: { policyArn: `arn:aws:iam::aws:policy/${policy}` },
    });
    // Act / Assert
    expect(decide(raw).decision).toEqual(['compromised-key-quarantined', 'page']);
  });

  it.each([
    ['iam-attach-read-only-to-user', 'another managed policy attached to a user'],
    ['iam-put-user-policy-deny-all', 'an inline deny-all policy'],
  ])('%s (%s) is recorded as a policy change, not paged as a leaked key', (name) => {
    expect(decide(fixture(name)).decision).toEqual(['iam-policy-change', 'record']);
  });

  it('does not claim a quarantine for a customer policy that only looks like it', () => {
    // Arrange
    const raw = fixture('iam-compromised-key-quarantine-v2', {
      withRequestParameters: { policyArn: 'arn:aws:iam::123456789012:policy/AWSCompromisedKeyQuarantineV2' },
    });
    // Act / Assert
    expect(decide(raw).decision).toEqual(['iam-policy-change', 'record']);
  });
});

describe('role-trusts-outsider', () => {
  it('pages when a trust policy is updated to admit anyone (*), even behind an external id', () => {
    // Act
    const { decision, finding } = decide(fixture('iam-update-assume-role-policy-anyone'));
    // Assert
    expect(decision).toEqual(['role-trusts-outsider', 'page']);
    expect(finding?.what).toBe('role (unreadable) now trusts anyone (*)');
    expect(finding?.evidence.trustStatement).toContain('sts:ExternalId');
  });

  it('ignores a trust policy that admits only an AWS service', () => {
    expect(decide(fixture('iam-update-assume-role-policy-service')).decision).toEqual([null, 'none']);
  });

  it('pages a role created for another account, and not once the stage trusts that account', () => {
    // Act
    const untrusted = decide(fixture('iam-create-role-foreign-account'));
    const trusted = decide(fixture('iam-create-role-foreign-account'), { trustedAccounts: ['444455556666'] });
    // Assert
    expect(untrusted.decision).toEqual(['role-trusts-outsider', 'page']);
    expect(untrusted.finding?.what).toBe('role vendor-audit created trusting account 444455556666');
    expect(trusted.decision).toEqual([null, 'none']);
  });

  it("pages * narrowed by aws:PrincipalOrgID to another organization, not to the stage's own", () => {
    // Act
    const otherOrg = decide(fixture('iam-create-role-anyone-in-organization'), {
      organizationId: 'o-zzzzzzzzzz',
    });
    const ownOrg = decide(fixture('iam-create-role-anyone-in-organization'), {
      organizationId: 'o-a1b2c3d4e5',
    });
    // Assert
    expect(otherOrg.decision).toEqual(['role-trusts-outsider', 'page']);
    expect(ownOrg.decision).toEqual([null, 'none']);
  });

  it('pages a GitHub OIDC trust narrowed only by audience (any repository), not one narrowed to a repository', () => {
    // Act
    const anyRepo = decide(fixture('iam-create-role-github-any-repository'));
    const oneRepo = decide(fixture('iam-create-role-github-one-repository'));
    // Assert
    expect(anyRepo.decision).toEqual(['role-trusts-outsider', 'page']);
    expect(anyRepo.finding?.what).toBe(
      'role github-deployer created trusting any user of web identity provider token.actions.githubusercontent.com',
    );
    expect(oneRepo.decision).toEqual([null, 'none']);
  });

  it.each([
    ['a SAML provider with no condition', { Federated: 'arn:aws:iam::123456789012:saml-provider/Okta' }, {}],
    ['Cognito with no audience', { Federated: 'cognito-identity.amazonaws.com' }, {}],
    ['an account wildcard in a principal ARN', { AWS: 'arn:aws:iam::*:root' }, {}],
    [
      'a principal ARN condition naming a foreign account',
      { AWS: '*' },
      { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::444455556666:role/*' } },
    ],
    ['a negated org condition', { AWS: '*' }, { StringNotEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } }],
    [
      'an org condition under ForAllValues (true when the key is absent)',
      { AWS: '*' },
      { 'ForAllValues:StringEquals': { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
    ],
  ])('pages %s', (_, principal, condition) => {
    // Arrange
    const statement = {
      Effect: 'Allow',
      Principal: principal,
      Action: 'sts:AssumeRole',
      Condition: condition,
    };
    const raw = fixture('iam-create-role-foreign-account', {
      withRequestParameters: { assumeRolePolicyDocument: JSON.stringify({ Statement: [statement] }) },
    });
    // Act / Assert
    expect(decide(raw, { organizationId: 'o-a1b2c3d4e5' }).decision).toEqual([
      'role-trusts-outsider',
      'page',
    ]);
  });

  it.each([
    [
      'a SAML provider narrowed by SAML:aud',
      { Federated: 'arn:aws:iam::123456789012:saml-provider/Okta' },
      {
        StringEquals: { 'SAML:aud': 'https://signin.aws.amazon.com/saml' },
      },
    ],
    ['its own account', { AWS: 'arn:aws:iam::123456789012:role/admin' }, {}],
    [
      '* narrowed to its own account',
      { AWS: '*' },
      { StringEquals: { 'aws:PrincipalAccount': '123456789012' } },
    ],
    ['a Deny statement for anyone', { AWS: '*' }, undefined],
  ])('ignores %s', (name, principal, condition) => {
    // Arrange
    const statement = {
      Effect: name.includes('Deny') ? 'Deny' : 'Allow',
      Principal: principal,
      Action: 'sts:AssumeRole',
      ...(condition ? { Condition: condition } : {}),
    };
    const raw = fixture('iam-create-role-foreign-account', {
      withRequestParameters: { assumeRolePolicyDocument: JSON.stringify({ Statement: [statement] }) },
    });
    // Act / Assert
    expect(decide(raw).decision).toEqual([null, 'none']);
  });

  it('claims nothing for a trust policy it cannot read, and shows a crafted role name as unreadable', () => {
    // Arrange
    const unreadable = fixture('iam-create-role-foreign-account', {
      withRequestParameters: { assumeRolePolicyDocument: '{not json' },
    });
    const crafted = fixture('iam-create-role-foreign-account', {
      withRequestParameters: { roleName: 'x\n@here <script>' },
    });
    // Act / Assert
    expect(decide(unreadable).decision).toEqual([null, 'none']);
    expect(decide(crafted).finding?.what).toBe('role (unreadable) created trusting account 444455556666');
  });
});

describe('roles-anywhere-trust-created', () => {
  it.each([
    ['rolesanywhere-create-trust-anchor', 'IAM Roles Anywhere trust anchor laptop-ca created'],
    ['rolesanywhere-create-profile', 'IAM Roles Anywhere profile laptop-admin created'],
  ])('pages %s', (name, what) => {
    // Act
    const { decision, finding } = decide(fixture(name));
    // Assert
    expect(decision).toEqual(['roles-anywhere-trust-created', 'page']);
    expect(finding?.what).toBe(what);
  });

  it('names the roles a profile hands out', () => {
    expect(decide(fixture('rolesanywhere-create-profile')).finding?.evidence).toEqual({
      roleArns: 'arn:aws:iam::123456789012:role/Admin',
    });
  });

  it('records a refused CreateTrustAnchor as a refusal, not a trust anchor created', () => {
    expect(decide(fixture('rolesanywhere-create-trust-anchor-refused')).decision).toEqual([
      'unauthorized-api-call',
      'record',
    ]);
  });
});

describe('lambda-invokable-by-anyone', () => {
  it('pages AddPermission to * with no source condition, naming the function', () => {
    // Act
    const { decision, finding } = decide(fixture('lambda-add-permission-anyone'));
    // Assert
    expect(decision).toEqual(['lambda-invokable-by-anyone', 'page']);
    expect(finding?.what).toBe('function my-lambda-function invokable by anyone (principal *)');
    expect(finding?.evidence).toEqual({ grantedTo: '*', action: 'lambda:InvokeFunction' });
  });

  it('ignores AddPermission to * narrowed to its own account', () => {
    expect(decide(fixture('lambda-add-permission-anyone-own-account')).decision).toEqual([null, 'none']);
  });

  it('pages AddPermission to * narrowed to a foreign source account or another organization', () => {
    // Arrange
    const foreign = fixture('lambda-add-permission-anyone-own-account', {
      withRequestParameters: { sourceAccount: '444455556666' },
    });
    const otherOrg = fixture('lambda-add-permission-anyone', {
      withRequestParameters: { principalOrgID: 'o-zzzzzzzzzz' },
    });
    // Act / Assert
    expect(decide(foreign).decision).toEqual(['lambda-invokable-by-anyone', 'page']);
    expect(decide(otherOrg, { organizationId: 'o-a1b2c3d4e5' }).decision).toEqual([
      'lambda-invokable-by-anyone',
      'page',
    ]);
  });

  it('claims nothing for an AddPermission whose principal is missing (the public record carries none)', () => {
    expect(decide(fixture('lambda-add-permission-no-principal')).decision).toEqual([null, 'none']);
  });

  it('pages a function URL created with AuthType NONE, and ignores one updated to AWS_IAM', () => {
    // Act
    const open = decide(fixture('lambda-function-url-auth-none'));
    const iam = decide(fixture('lambda-function-url-auth-iam'));
    // Assert
    expect(open.decision).toEqual(['lambda-invokable-by-anyone', 'page']);
    expect(open.finding?.what).toBe('function my-lambda-function has a public URL (AuthType NONE)');
    expect(iam.decision).toEqual([null, 'none']);
  });
});
