import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { isWorld } from '#functions/onCloudTrail/detections/cidr.ts';
import { detect, EVENT_PATTERNS, WATCHED_CALLS } from '#functions/onCloudTrail/detections.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { CATALOGUE, DETECTION_NAMES } from '#functions/onCloudTrail/settings.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { renderPage } from '#shared/domain/page.ts';
import { makeConfig } from '../support/config.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const parse = (raw: unknown) => CloudTrailEvent.parse(raw);

/** What the function decides for one record on a stage: the detection, and page, record or nothing. */
function decide(raw: unknown, overrides: Parameters<typeof makeConfig>[0] = {}) {
  const config = makeConfig(overrides);
  const observation = observeCloudTrail(parse(raw), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return { observation, plan, decision: [plan.findings?.detection ?? null, plan.findings?.action] };
}

describe('onCloudTrail detections on the fixtures, with the default catalogue', () => {
  it.each([
    ['security-group-open-world', 'security-group-open-to-world', 'page'],
    ['security-group-open-world-ipv6', 'security-group-open-to-world', 'page'],
    ['security-group-open-world-flat', 'security-group-open-to-world', 'page'],
    ['security-group-modify-rules-world', 'security-group-open-to-world', 'page'],
    ['s3-bucket-policy-public', 's3-bucket-public', 'page'],
    ['s3-bucket-acl-all-users', 's3-bucket-public', 'page'],
    ['s3-public-access-block-deleted', 's3-bucket-public', 'page'],
    ['s3-public-access-block-off', 's3-bucket-public', 'page'],
    ['cloudtrail-stop-logging', 'cloudtrail-tampering', 'page'],
    ['cloudtrail-delete-trail', 'cloudtrail-tampering', 'page'],
    ['cloudtrail-event-selectors-read-only', 'cloudtrail-tampering', 'page'],
    ['iam-attach-admin-to-role', 'admin-policy-attached', 'page'],
    ['iam-put-user-policy-star', 'admin-policy-attached', 'page'],
    ['root-create-access-key', 'root-access-key-created', 'page'],
    ['root-console-sign-in', 'root-console-sign-in', 'page'],
    ['console-sign-in-no-mfa', 'console-sign-in-without-mfa', 'page'],
    ['guardduty-delete-detector', 'guardduty-disabled', 'page'],
    ['vpc-delete-flow-logs', 'vpc-flow-logs-deleted', 'page'],
    ['config-stop-recorder', 'config-recorder-stopped', 'page'],
    ['kms-schedule-key-deletion', 'kms-key-disabled', 'page'],
    // Negative fixtures: recorded by their wider CIS detection, or nothing at all.
    ['security-group-ingress-32', 'security-group-change', 'record'],
    ['security-group-ingress-slash16', 'security-group-change', 'record'],
    ['s3-bucket-policy-private', 's3-bucket-policy-change', 'record'],
    ['iam-attach-read-only-to-role', 'iam-policy-change', 'record'],
    ['console-sign-in-failure', 'console-sign-in-failure', 'record'],
    ['unauthorized-api-call', 'unauthorized-api-call', 'record'],
    ['nacl-entry-created', 'nacl-change', 'record'],
    ['organizations-leave', 'organizations-change', 'record'],
    ['console-sign-in-mfa-upper-case', null, 'none'],
    ['console-sign-in-saml', null, 'none'],
    ['console-sign-in-identity-center', null, 'none'],
    ['security-group-open-world-failed', null, 'none'],
  ])('%s -> %s, %s', (name, detection, action) => {
    // Act
    const { decision, plan } = decide(cloudTrailRecord(name));
    // Assert
    expect(decision).toEqual([detection, action]);
    expect(plan.intents.filter((i) => i.kind === 'sns.page')).toHaveLength(action === 'page' ? 1 : 0);
  });

  it('covers every CIS monitoring control 4.1 to 4.15 with a detection', () => {
    // Arrange
    const controls = Array.from({ length: 15 }, (_, i) => `4.${i + 1}`);
    // Act
    const covered = new Set(Object.values(CATALOGUE).map((d) => ('cis' in d ? d.cis : undefined)));
    // Assert
    for (const control of controls) expect(covered, control).toContain(control);
  });

  it('lists the default-page detections first, so a specific one decides before its wider CIS detection', () => {
    // Act
    const actions = DETECTION_NAMES.map((n) => CATALOGUE[n].action);
    // Assert
    expect(actions.indexOf('record')).toBe(actions.lastIndexOf('page') + 1);
  });
});

describe('onCloudTrail: the holes other rule suites have', () => {
  it('pages nothing for a failed call, whatever it asked for', () => {
    // Arrange
    const failed = cloudTrailRecord('s3-bucket-policy-public', { errorCode: 'MalformedPolicy' });
    // Act
    const found = detect(parse(failed), DETECTION_NAMES);
    // Assert
    expect(found).toEqual([]);
  });

  it('reads MFAUsed without regard to case, and calls an IAM user without it "without MFA"', () => {
    // Arrange
    const lower = cloudTrailRecord('console-sign-in-no-mfa', { additionalEventData: { MFAUsed: 'yes' } });
    // Act
    const withMfa = decide(lower).decision;
    const without = decide(cloudTrailRecord('console-sign-in-no-mfa')).decision;
    // Assert
    expect(withMfa).toEqual([null, 'none']);
    expect(without).toEqual(['console-sign-in-without-mfa', 'page']);
  });

  it('finds ::/0 in the IPv6 field and 0.0.0.0/0 in the flat cidrIp form, and names the ports', () => {
    // Act
    const v6 = decide(cloudTrailRecord('security-group-open-world-ipv6')).observation.signal.evidence.opened;
    const flat = decide(cloudTrailRecord('security-group-open-world-flat')).observation.signal.evidence
      .opened;
    // Assert
    expect(v6).toBe('tcp 3389 from ::/0');
    expect(flat).toBe('tcp 5432 from 0.0.0.0/0');
  });

  it('takes only the world-open ranges of a call that adds several as what to revoke', () => {
    // Arrange
    const mixed = cloudTrailRecord('security-group-open-world', {
      requestParameters: {
        groupId: 'sg-0123456789abcdef0',
        ipPermissions: {
          items: [
            {
              ipProtocol: 'tcp',
              fromPort: 22,
              toPort: 22,
              ipRanges: { items: [{ cidrIp: '10.0.0.0/8' }, { cidrIp: '0.0.0.0/0' }] },
            },
            {
              ipProtocol: 'tcp',
              fromPort: 443,
              toPort: 443,
              ipRanges: { items: [{ cidrIp: '203.0.113.0/24' }] },
            },
          ],
        },
      },
    });
    // Act
    const [finding] = detect(parse(mixed), DETECTION_NAMES);
    // Assert
    expect(finding?.remediation).toEqual({
      kind: 'revoke-world-ingress',
      groupId: 'sg-0123456789abcdef0',
      permissions: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
    });
  });

  it('lets a crafted group id, CIDR or bucket name reach no remediation parameter', () => {
    // Arrange
    const sg = cloudTrailRecord('security-group-open-world', {
      requestParameters: {
        groupId: 'sg-0123456789abcdef0 --dry-run; aws ec2 delete-vpc',
        ipPermissions: {
          items: [
            { ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } },
          ],
        },
      },
    });
    const cidr = cloudTrailRecord('security-group-open-world', {
      requestParameters: {
        groupId: 'sg-0123456789abcdef0',
        ipPermissions: {
          items: [
            { ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: { items: [{ cidrIp: '0.0.0.0/0\n' }] } },
          ],
        },
      },
    });
    const bucket = cloudTrailRecord('s3-public-access-block-deleted', {
      withRequestParameters: { bucketName: '../other-bucket' },
    });
    // Act
    const [sgFinding] = detect(parse(sg), DETECTION_NAMES);
    const cidrFindings = detect(parse(cidr), DETECTION_NAMES).map((f) => f.detection);
    const [bucketFinding] = detect(parse(bucket), DETECTION_NAMES);
    // Assert
    expect(sgFinding?.detection).toBe('security-group-open-to-world');
    expect(sgFinding?.remediation).toBeUndefined();
    expect(sgFinding?.what).not.toContain('delete-vpc');
    expect(cidrFindings).toEqual(['security-group-change']);
    expect(bucketFinding?.remediation).toBeUndefined();
    expect(bucketFinding?.what).toBe('bucket (unreadable) public access block deleted');
  });
});

describe('onCloudTrail: federated sign-ins are never "without MFA"', () => {
  it('does not page a SAML sign-in recorded with an IAM user identity and MFAUsed No', () => {
    // Act
    const { decision, plan } = decide(cloudTrailRecord('console-sign-in-saml-iam-user'));
    // Assert
    expect(decision).toEqual([null, 'none']);
    expect(plan.intents).toEqual([]);
  });

  it('does not page an IAM Identity Center sign-in recorded with an IAM user identity and MFAUsed No', () => {
    // Arrange: the Identity Center session (AWSReservedSSO_ role), typed as an IAM user.
    const raw = cloudTrailRecord('console-sign-in-identity-center', { userIdentity: { type: 'IAMUser' } });
    // Act
    const { decision } = decide(raw);
    // Assert
    expect(decision).toEqual([null, 'none']);
  });

  it('still pages an IAM user without MFA whose sign-in carries a SamlProviderArn that is not a SAML provider ARN', () => {
    // Arrange
    const raw = cloudTrailRecord('console-sign-in-saml-iam-user', {
      additionalEventData: { SamlProviderArn: 'arn:aws:iam::123456789012:user/x' },
    });
    // Act
    const { decision } = decide(raw);
    // Assert
    expect(decision).toEqual(['console-sign-in-without-mfa', 'page']);
  });
});

describe('onCloudTrail: a public access block is turned off only by a flag set to false', () => {
  const withConfiguration = (configuration: unknown) => {
    const raw = cloudTrailRecord('s3-public-access-block-off');
    const req = raw.detail.requestParameters as Record<string, unknown>;
    if (configuration === undefined) delete req.PublicAccessBlockConfiguration;
    else req.PublicAccessBlockConfiguration = configuration;
    return raw;
  };

  it('records, without a page, a PutBucketPublicAccessBlock whose configuration is absent, and says it could not be read', () => {
    // Act
    const { decision, plan } = decide(withConfiguration(undefined));
    // Assert
    expect(decision).toEqual(['s3-bucket-policy-change', 'record']);
    expect(plan.intents).toEqual([]);
    expect(plan.notes.map((n) => n.detail).join(' ')).toMatch(/could not be read/);
  });

  it('records, without a page, a configuration missing flags whose other flags are on', () => {
    // Act
    const { decision } = decide(withConfiguration({ BlockPublicAcls: true, IgnorePublicAcls: true }));
    // Assert
    expect(decision).toEqual(['s3-bucket-policy-change', 'record']);
  });

  it('pages a configuration with one flag explicitly false, naming only that flag as turned off', () => {
    // Act
    const { decision, observation } = decide(
      withConfiguration({ BlockPublicAcls: true, BlockPublicPolicy: 'false' }),
    );
    // Assert
    expect(decision).toEqual(['s3-bucket-public', 'page']);
    expect(observation.facts.decided?.finding.evidence.turnedOff).toBe('BlockPublicPolicy');
  });

  it('does not page a configuration with every flag on', () => {
    // Act
    const { decision } = decide(
      withConfiguration({
        BlockPublicAcls: true,
        IgnorePublicAcls: 'true',
        BlockPublicPolicy: true,
        RestrictPublicBuckets: true,
      }),
    );
    // Assert
    expect(decision).toEqual(['s3-bucket-policy-change', 'record']);
  });
});

describe('onCloudTrail: the catalogue per stage', () => {
  it('lets a stage turn a detection off, so the next matching one decides', () => {
    // Act
    const { decision } = decide(cloudTrailRecord('security-group-open-world'), {
      cloudTrail: { detections: { 'security-group-open-to-world': { action: 'off' } } },
    });
    // Assert
    expect(decision).toEqual(['security-group-change', 'record']);
  });

  it('lets a stage page a record detection, with its own severity', () => {
    // Act
    const { plan } = decide(cloudTrailRecord('nacl-entry-created'), {
      cloudTrail: { detections: { 'nacl-change': { action: 'page', severity: 'warning' } } },
    });
    // Assert
    expect(plan.intents.map((i) => [i.kind, i.kind === 'sns.page' ? i.severity : undefined])).toEqual([
      ['sns.page', 'warning'],
    ]);
  });

  it('refuses a stage that would page failed calls or remediate what has no remediation, naming it', () => {
    // Act
    const paging = () =>
      parseStageConfig('x', {
        dryRun: true,
        cloudTrail: { detections: { 'unauthorized-api-call': { action: 'page' } } },
      });
    const remediating = () =>
      parseStageConfig('x', {
        dryRun: true,
        cloudTrail: { detections: { 'kms-key-disabled': { remediate: true } } },
      });
    const unknown = () =>
      parseStageConfig('x', {
        dryRun: true,
        cloudTrail: { detections: { 'no-such-detection': { action: 'page' } } },
      });
    // Assert
    expect(paging).toThrow('unauthorized-api-call may only record or be off');
    expect(remediating).toThrow('kms-key-disabled has no remediation');
    expect(unknown).toThrow('cloudTrail.detections');
  });
});

describe('onCloudTrail page: who, what, where, when', () => {
  it('names the principal, its role, key and MFA, the opened range, the source address and the console link', () => {
    // Arrange
    const { plan } = decide(cloudTrailRecord('security-group-open-world'));
    const intent = plan.intents.find((i) => i.kind === 'sns.page');
    if (!intent) throw new Error('no page planned');
    // Act
    const page = renderPage(intent, { outcomes: [], repeats: 0, stage: 'dev', dryRun: true, pageId: 'p-1' });
    // Assert
    expect(page.subject).toBe(
      '[CRITICAL] cloudtrail.detection: sg-0123456789abcdef0 opened to the world: tcp 22 from 0.0.0.0/0',
    );
    for (const line of [
      'detection: security-group-open-to-world',
      'by DevOps/jdoe',
      'arn:aws:sts::123456789012:assumed-role/DevOps/jdoe',
      'arn:aws:iam::123456789012:role/DevOps',
      'ASIAEXAMPLEKEYID1234',
      'mfaUsed: false',
      'opened: tcp 22 from 0.0.0.0/0',
      'Account 123456789012, region us-east-1',
      'sourceIPAddress: 203.0.113.10',
      'eventTime: 2025-06-03T10:15:42Z',
      'https://us-east-1.console.aws.amazon.com/cloudtrail/home?region=us-east-1#/events/',
    ]) {
      expect(page.body).toContain(line);
    }
    expect(intent.incidentKey).toBe(
      `cloudtrail:123456789012:${cloudTrailRecord('security-group-open-world').detail.eventID}`,
    );
  });
});

describe('onCloudTrail event pattern', () => {
  // One rule per pattern, as many as the calls need: together they list the calls; each stays within
  // EventBridge's size. The first also holds the detections' own branches.
  const [first, ...rest] = EVENT_PATTERNS as unknown as [
    { detail: { $or: [{ eventName: string[] }] } },
    ...{ detail: { eventName: string[] } }[],
  ];

  it('lists exactly the calls the detections read', () => {
    // Act
    const listed = [...first.detail.$or[0].eventName, ...rest.flatMap((p) => p.detail.eventName)];
    // Assert
    expect(listed).toEqual(WATCHED_CALLS);
  });
});

describe('what counts as the world', () => {
  it.each([
    ['0.0.0.0/0', true],
    ['::/0', true],
    ['0.0.0.0/1', true],
    ['128.0.0.0/1', true],
    ['11.0.0.0/8', true],
    ['2000::/3', true],
    ['0.0.0.0/16', false],
    ['10.0.0.0/8', false],
    ['172.16.0.0/12', false],
    ['203.0.113.0/24', false],
    ['fd00::/8', false],
    ['2001:db8::/32', false],
    ['999.0.0.0/0', false],
    ['not-a-cidr', false],
  ])('%s is the world: %s', (cidr, world) => {
    expect(isWorld(cidr)).toBe(world);
  });
});
