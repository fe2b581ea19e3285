import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  memberCredentials,
  REFRESH_BEFORE_EXPIRY_MS,
  resetMemberCredentialsForTests,
  sessionNameOf,
} from '#shared/organization/credentials.ts';

const sts = mockClient(STSClient);
const ROLE_A = 'arn:aws:iam::222222222222:role/ops-autopilot-org-member';
const ROLE_B = 'arn:aws:iam::333333333333:role/ops-autopilot-org-member';
const SESSION = 'ops-autopilot-org-onAlarm';

/** STS answers credentials expiring `inMs` from now. */
const expiringIn = (inMs: number) =>
  sts.on(AssumeRoleCommand).resolves({
    Credentials: {
      AccessKeyId: 'ASIAMEMBER',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(Date.now() + inMs),
    },
  });

beforeEach(() => {
  sts.reset();
  resetMemberCredentialsForTests();
});

describe("a member role's credentials", () => {
  it('are assumed once per account while they last', async () => {
    // Arrange
    expiringIn(3600_000);
    // Act
    await memberCredentials(ROLE_A, SESSION)();
    await memberCredentials(ROLE_A, SESSION)();
    await memberCredentials(ROLE_B, SESSION)();
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleArn)).toEqual([ROLE_A, ROLE_B]);
  });

  it("are assumed again once they are about to expire, under the function's session again", async () => {
    // Arrange
    expiringIn(REFRESH_BEFORE_EXPIRY_MS - 1000);
    // Act
    await memberCredentials(ROLE_A, SESSION)();
    await memberCredentials(ROLE_A, SESSION)();
    // Assert
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input.RoleSessionName)).toEqual([
      SESSION,
      SESSION,
    ]);
  });

  it('are asked for again after STS refused them, not remembered as refused', async () => {
    // Arrange
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(new Error('AccessDenied'))
      .resolves({
        Credentials: {
          AccessKeyId: 'ASIAMEMBER',
          SecretAccessKey: 'secret',
          SessionToken: 'token',
          Expiration: new Date(Date.now() + 3600_000),
        },
      });
    // Act
    const first = memberCredentials(ROLE_A, SESSION)();
    await expect(first).rejects.toThrow('AccessDenied');
    const second = await memberCredentials(ROLE_A, SESSION)();
    // Assert
    expect(second.accessKeyId).toBe('ASIAMEMBER');
  });
});

describe('the session name', () => {
  it('keeps to the 64 characters and the characters STS takes', () => {
    // Act
    const name = sessionNameOf(`ops-autopilot-a-stage-name-that-is-long-${'x'.repeat(80)} /?`);
    // Assert
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(name.startsWith('ops-autopilot-a-stage-name-that-is-long-x')).toBe(true);
  });
});
