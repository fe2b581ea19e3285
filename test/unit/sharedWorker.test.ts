import { CloudFormationClient, ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';
import { CloudTrailClient, DescribeTrailsCommand } from '@aws-sdk/client-cloudtrail';
import {
  DescribeAccountCommand,
  DescribeOrganizationalUnitCommand,
  ListParentsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { trailLogBuckets } from '#functions/onCloudTrail/trailLogBuckets.ts';
import { actingClient, type ClientTarget } from '#shared/aws/client.ts';
import { accountNameOf } from '#shared/organization/accountNames.ts';
import { memberCredentials } from '#shared/organization/credentials.ts';
import { ouPathOf } from '#shared/organization/ouPaths.ts';
import { servedAccounts } from '#shared/organization/servedAccounts.ts';
import { actInTarget } from '#shared/organization/target.ts';
import { readKillSwitch } from '#shared/runtime/killSwitch.ts';
import { putBackAfterFile } from '../support/sharedWorker.ts';

/**
 * The handler files share their workers (vitest.config.ts): what a file's modules cached must be gone
 * before the next file, or a file reads the kill switch or the trails another file's mocks answered.
 */
describe('the put-back after each file of a shared worker', () => {
  it('forgets the kill switch a file read, so the next file reads its own', async () => {
    // Arrange: a file whose SSM says dry-run reads the switch (cached 60 s).
    mockClient(SSMClient)
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: 'dry-run' } });
    expect((await readKillSwitch('dev')).forced).toBe(true);
    // Act: the file ends; the next one's SSM says live.
    putBackAfterFile();
    mockClient(SSMClient)
      .on(GetParameterCommand)
      .resolves({ Parameter: { Value: 'live' } });
    // Assert
    expect((await readKillSwitch('dev')).forced).toBe(false);
    putBackAfterFile();
  });

  it("forgets the trails' log buckets a file read, so the next file reads its own", async () => {
    // Arrange
    const answering = (bucket: string) =>
      mockClient(CloudTrailClient)
        .on(DescribeTrailsCommand)
        .resolves({ trailList: [{ Name: 'management', S3BucketName: bucket }] });
    answering('first-file-logs');
    const first = JSON.stringify(await trailLogBuckets());
    // Act
    putBackAfterFile();
    answering('next-file-logs');
    const next = JSON.stringify(await trailLogBuckets());
    // Assert
    expect(first).toContain('first-file-logs');
    expect(next).toContain('next-file-logs');
    putBackAfterFile();
  });

  it("forgets a member role's credentials a file assumed, so the next file assumes with its own STS", async () => {
    // Arrange: credentials are kept until shortly before they expire (an hour).
    const answering = (key: string) =>
      mockClient(STSClient)
        .on(AssumeRoleCommand)
        .resolves({
          Credentials: {
            AccessKeyId: key,
            SecretAccessKey: 'secret',
            SessionToken: 'token',
            Expiration: new Date(Date.now() + 3_600_000),
          },
        });
    const role = 'arn:aws:iam::210987654321:role/ops-autopilot-dev-member';
    answering('FIRSTFILEKEY');
    const first = await memberCredentials(role, 'ops-autopilot-dev-test')();
    // Act
    putBackAfterFile();
    answering('NEXTFILEKEY');
    const next = await memberCredentials(role, 'ops-autopilot-dev-test')();
    // Assert
    expect(first.accessKeyId).toBe('FIRSTFILEKEY');
    expect(next.accessKeyId).toBe('NEXTFILEKEY');
    putBackAfterFile();
  });

  it("forgets an account's OU path and name a file read, so the next file reads its own", async () => {
    // Arrange: both are kept for hours (an account seldom moves or is renamed).
    const answering = (ou: string, name: string) =>
      mockClient(OrganizationsClient)
        .on(ListParentsCommand, { ChildId: '210987654321' })
        .resolves({ Parents: [{ Id: 'ou-ab12-cdef3456', Type: 'ORGANIZATIONAL_UNIT' }] })
        .on(ListParentsCommand, { ChildId: 'ou-ab12-cdef3456' })
        .resolves({ Parents: [{ Id: 'r-ab12', Type: 'ROOT' }] })
        .on(DescribeOrganizationalUnitCommand)
        .resolves({ OrganizationalUnit: { Id: 'ou-ab12-cdef3456', Name: ou } })
        .on(DescribeAccountCommand)
        .resolves({ Account: { Id: '210987654321', Name: name } });
    answering('FirstFileOu', 'first-file-account');
    const first = [await ouPathOf('210987654321'), await accountNameOf('210987654321')];
    // Act
    putBackAfterFile();
    answering('NextFileOu', 'next-file-account');
    const next = [await ouPathOf('210987654321'), await accountNameOf('210987654321')];
    // Assert
    expect(first.join(' ')).toContain('FirstFileOu');
    expect(first).toContain('first-file-account');
    expect(next.join(' ')).toContain('NextFileOu');
    expect(next).toContain('next-file-account');
    putBackAfterFile();
  });

  it('forgets the served accounts a file listed, so the next file lists its own', async () => {
    // Arrange: the listing is kept for the stage's cache seconds.
    const answering = (account: string) =>
      mockClient(CloudFormationClient)
        .on(ListStackInstancesCommand)
        .resolves({
          Summaries: [
            { Account: account, Status: 'CURRENT', StackInstanceStatus: { DetailedStatus: 'SUCCEEDED' } },
          ],
        });
    answering('111111111111');
    const first = [...(await servedAccounts('dev', 300))];
    // Act
    putBackAfterFile();
    answering('222222222222');
    const next = [...(await servedAccounts('dev', 300))];
    // Assert
    expect(first).toEqual(['111111111111']);
    expect(next).toEqual(['222222222222']);
    putBackAfterFile();
  });

  it("forgets the member clients a file built, so the next file's calls in that account use its own credentials", async () => {
    // Arrange: an acting client whose member clients answer with the credentials they were built with.
    class MemberClient {
      constructor(private readonly target?: ClientTarget) {}
      async send(_command: unknown): Promise<string> {
        return this.target ? (await this.target.credentials()).accessKeyId : 'home';
      }
    }
    const client = actingClient((target) => new MemberClient(target));
    const inAccountA = (accessKeyId: string) =>
      actInTarget(
        {
          account: '111111111111',
          region: 'us-east-1',
          credentials: async () => ({ accessKeyId, secretAccessKey: 'secret' }),
        },
        () => client.send({}),
      );
    expect(await inAccountA('FIRSTFILEKEY')).toBe('FIRSTFILEKEY');
    // Act: the file ends; the next one assumes the member role with its own STS.
    putBackAfterFile();
    // Assert
    expect(await inAccountA('NEXTFILEKEY')).toBe('NEXTFILEKEY');
    putBackAfterFile();
  });
});
