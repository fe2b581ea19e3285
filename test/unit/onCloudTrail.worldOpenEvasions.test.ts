import { describe, expect, it } from 'vitest';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { makeConfig } from '../support/config.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const fixture = cloudTrailRecord;

function decide(raw: unknown) {
  const config = makeConfig({});
  const observation = observeCloudTrail(CloudTrailEvent.parse(raw), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return [plan.findings?.detection ?? null, plan.findings?.action];
}

describe('world-open inputs the detections once missed, a lost page (found by an adversarial review)', () => {
  it('pages a bucket policy open to * whose only Condition does not restrict who (aws:SecureTransport)', () => {
    // Arrange: anyone on the internet can read every object, over HTTPS.
    const raw = fixture('s3-bucket-policy-public', {
      requestParameters: {
        bucketName: 'example-public-site',
        bucketPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'PublicReadTlsOnly',
              Effect: 'Allow',
              Principal: '*',
              Action: 's3:GetObject',
              Resource: 'arn:aws:s3:::example-public-site/*',
              Condition: { Bool: { 'aws:SecureTransport': 'true' } },
            },
          ],
        },
      },
    });
    // Act
    const decision = decide(raw);
    // Assert
    expect(decision).toEqual(['s3-bucket-public', 'page']);
  });

  it('pages a bucket policy open to * whose Condition allows every address (aws:SourceIp 0.0.0.0/0)', () => {
    // Arrange
    const raw = fixture('s3-bucket-policy-public', {
      requestParameters: {
        bucketName: 'example-public-site',
        bucketPolicy: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: '*' },
              Action: 's3:*',
              Resource: ['arn:aws:s3:::example-public-site', 'arn:aws:s3:::example-public-site/*'],
              Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } },
            },
          ],
        },
      },
    });
    // Act
    const decision = decide(raw);
    // Assert
    expect(decision).toEqual(['s3-bucket-public', 'page']);
  });

  it('pages SSH opened to the whole IPv4 internet written as two /1 halves', () => {
    // Arrange: 0.0.0.0/1 + 128.0.0.0/1 is exactly 0.0.0.0/0.
    const raw = fixture('security-group-open-world', {
      requestParameters: {
        groupId: 'sg-0123456789abcdef0',
        ipPermissions: {
          items: [
            {
              ipProtocol: 'tcp',
              fromPort: 22,
              toPort: 22,
              ipRanges: { items: [{ cidrIp: '0.0.0.0/1' }, { cidrIp: '128.0.0.0/1' }] },
            },
          ],
        },
      },
    });
    // Act
    const decision = decide(raw);
    // Assert
    expect(decision).toEqual(['security-group-open-to-world', 'page']);
  });
});
