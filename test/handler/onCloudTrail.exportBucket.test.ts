import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/**
 * An RDS export to S3 through the handler, every AWS client mocked: gather asks ListBuckets (in the
 * record's account) whether the bucket is this account's; another account's pages, this account's is
 * recorded, and a refused read is recorded saying the owner is unknown. Nothing in S3 is changed.
 */

const { aws, invoke, pages, setDryRun } = await cloudTrailHandlerHarness();
const s3 = aws.of(S3Client);
const fixture = (name: string) => cloudTrailRecord(`exposure/${name}`);
/** This account's buckets, as ListBuckets lists them for the prefix asked. */
const ownBuckets = (...names: string[]) =>
  s3.on(ListBucketsCommand).callsFake((input: { Prefix?: string }) => ({
    Buckets: names.filter((n) => n.startsWith(input.Prefix ?? '')).map((Name) => ({ Name })),
  }));

describe('onCloudTrail pages an RDS export to another account’s bucket', () => {
  it.each([true, false])(
    'pages an export to a bucket this account does not own, with the bucket and who (dry run %s)',
    async (dryRun) => {
      // Arrange
      setDryRun(dryRun);
      ownBuckets('mybucket', 'partner-data-drop-archive');
      // Act
      const result = await invoke(fixture('rds-export-to-s3-foreign-bucket'));
      // Assert
      const sent = pages();
      expect(sent).toHaveLength(1);
      expect(sent[0]?.subject.startsWith('[HIGH]')).toBe(true);
      expect(sent[0]?.body).toContain('exported to S3 bucket partner-data-drop');
      expect(sent[0]?.body).toContain('partner-data-drop is not a bucket of account 123456789012');
      expect(sent[0]?.body).toContain('DevOps/jdoe');
      expect(result.findings).toEqual({ detection: 'rds-exported-to-s3', action: 'page' });
      // The one S3 call is the read: nothing in S3 is changed, in dry run or live.
      expect(s3.calls().map((c) => c.args[0].constructor.name)).toEqual(['ListBucketsCommand']);
      expect(s3.commandCalls(ListBucketsCommand)[0]?.args[0].input).toEqual({ Prefix: 'partner-data-drop' });
    },
  );

  it("records an export to this account's own bucket, without a page", async () => {
    // Arrange
    ownBuckets('mybucket');
    // Act
    const result = await invoke(fixture('rds-export-to-s3'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.findings).toEqual({ detection: 'rds-exported-to-s3', action: 'record' });
    expect(result.notes[0]?.detail).toContain('mybucket is a bucket of account 123456789012');
  });

  it('records an export whose bucket owner cannot be read, saying so, without a page', async () => {
    // Arrange
    s3.on(ListBucketsCommand).rejects(
      Object.assign(new Error('not authorized to ListBuckets'), { name: 'AccessDenied' }),
    );
    // Act
    const result = await invoke(fixture('rds-export-to-s3-foreign-bucket'));
    // Assert
    expect(pages()).toEqual([]);
    expect(result.findings).toEqual({ detection: 'rds-exported-to-s3', action: 'record' });
    expect(result.notes[0]?.detail).toContain(
      'could not tell whether partner-data-drop is a bucket of account 123456789012 (AccessDenied: not authorized to ListBuckets)',
    );
  });
});
