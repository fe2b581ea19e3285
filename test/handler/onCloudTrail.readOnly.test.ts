import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/**
 * The read-only calls the read-only rule delivers, through the handler with every AWS client mocked:
 * a scanner's key check, a password data read and a secret read by an unlisted principal page once,
 * with who and what; nothing is read from AWS to decide them.
 */

const { cloudtrail, invoke, pages } = await cloudTrailHandlerHarness({
  trails: [
    { Name: 'management-events', S3BucketName: 'sample-cloudtrail-bucket-name' },
    { Name: 'data-events', S3BucketName: 'example-data-event-logs' },
  ],
});
const fixture = (name: string) => cloudTrailRecord(`readonly/${name}`);

describe('onCloudTrail pages the read-only calls that matter', () => {
  it.each([
    [
      'sts-get-caller-identity-trufflehog',
      '[CRITICAL]',
      'verified by a secret scanner (TruffleHog): it has leaked',
    ],
    ['ec2-get-password-data', '[HIGH]', 'administrator password data of instance i-0a1b2c3d4e5f67890 read'],
    [
      'secretsmanager-batch-get-secret-value',
      '[HIGH]',
      'secret prod/db/password, prod/api/key read by arn:aws:iam::123456789012:role/stratus-red-team-ec2-get-password-data-role',
    ],
  ])('%s pages once as %s, with who', async (name, severity, what) => {
    // Act
    await invoke(fixture(name));
    // Assert
    const sent = pages();
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject.startsWith(severity)).toBe(true);
    expect(sent[0]?.body).toContain(what);
    expect(sent[0]?.body).toContain(
      'by stratus-red-team-ec2-get-password-data-role/aws-go-sdk-1729107121254489000',
    );
    expect(cloudtrail.calls()).toEqual([]);
  });

  it('pages nothing for GetCallerIdentity from the AWS CLI', async () => {
    // Act
    const result = await invoke(fixture('sts-get-caller-identity-cli'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.notes.map((n) => n.reason)).toEqual(['no-matching-rule']);
  });
});
