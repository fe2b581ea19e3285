/**
 * Where an approved action may act, judged from its record before any role is assumed
 * (shared/approval/memberAccount.ts): the record is data in a table, so a changed or crafted one is
 * refused naming the field, and never reaches another account or region.
 */
import { describe, expect, it } from 'vitest';
import { recordedAccountOf, recordedSiteProblem } from '#shared/approval/memberAccount.ts';
import type { Intent } from '#shared/domain/intent.ts';

const REVOKE = {
  kind: 'ec2.revoke-ingress',
  groupId: 'sg-0123456789abcdef0',
  permissions: [{ ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0' }],
  detection: 'security-group-open-to-world',
  reason: 'world-open ssh',
} as unknown as Intent;
const stopsIn = (account: string, region: string) =>
  ({
    kind: 'ec2.stop-instances',
    instances: [{ instanceId: 'i-0aaaaaaaaaaaaaaa1', reason: 'idle' }],
    target: { account, region },
  }) as unknown as Intent;

describe("an approved action's recorded site", () => {
  it.each([
    [
      { account: '12345678901', region: 'eu-west-1' },
      'the record\'s account "12345678901" is not a 12-digit account id',
    ],
    [
      { account: 222222222222, region: 'eu-west-1' },
      'the record\'s account "222222222222" is not a 12-digit account id',
    ],
    [
      { account: '222222222222', region: 'eu west 1' },
      'the record\'s region "eu west 1" is not a region name',
    ],
    [{ account: '222222222222', region: null }, 'the record\'s region "null" is not a region name'],
  ])('refuses %j, naming the field', (site, problem) => {
    // Act
    const found = recordedSiteProblem(site as never, REVOKE);
    // Assert
    expect(found).toBe(problem);
  });

  it("refuses a stop list whose target is not the record's account and region", () => {
    // Act
    const found = recordedSiteProblem(
      { account: '222222222222', region: 'eu-west-1' },
      stopsIn('333333333333', 'eu-west-1'),
    );
    // Assert
    expect(found).toBe(
      "the stop list's target is account 333333333333 region eu-west-1, not the record's account 222222222222 region eu-west-1",
    );
  });

  it('acts in place for the account it runs in, on any stage, reading nothing', async () => {
    // Act
    const where = await recordedAccountOf(
      { account: '111111111111', region: 'eu-west-1' },
      REVOKE,
      { account: '111111111111' },
      { stage: 'single' },
    );
    // Assert
    expect(where).toEqual({ at: 'here' });
  });

  it('refuses another account on a stage that is no organization, naming it', async () => {
    // Act
    const where = await recordedAccountOf(
      { account: '222222222222', region: 'eu-west-1' },
      REVOKE,
      { account: '111111111111' },
      { stage: 'single' },
    );
    // Assert
    expect(where).toEqual({
      refusal:
        "the action was recorded for account 222222222222; stage single is no organization's stage and acts only in account 111111111111",
    });
  });
});
