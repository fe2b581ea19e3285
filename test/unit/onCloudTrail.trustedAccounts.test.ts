import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { isForeignAccount, TRUSTS_NO_ONE } from '#functions/onCloudTrail/detections/declaration.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { loadFixture } from '../../tools/local/events.ts';

const record = CloudTrailEvent.parse(loadFixture('onCloudTrail/security-group-open-world.json'));
const own = record.detail.recipientAccountId ?? record.account;

describe("a stage's trusted accounts (cloudTrail.trustedAccounts)", () => {
  it("count the record's own account and the trusted ones as not foreign, and any other as foreign", () => {
    // Arrange
    const trusting = { trustedAccounts: new Set(['444455556666']) };
    // Act / Assert
    expect(isForeignAccount(own, record, TRUSTS_NO_ONE)).toBe(false);
    expect(isForeignAccount('444455556666', record, TRUSTS_NO_ONE)).toBe(true);
    expect(isForeignAccount('444455556666', record, trusting)).toBe(false);
    expect(isForeignAccount('777788889999', record, trusting)).toBe(true);
  });

  it('refuse a value that is not a 12-digit account id, or an organization id of the wrong shape, naming the field', () => {
    // Act
    const badAccount = () =>
      parseStageConfig('t', { dryRun: true, cloudTrail: { trustedAccounts: ['12345'] } });
    const badOrg = () => parseStageConfig('t', { dryRun: true, cloudTrail: { organizationId: 'org-1' } });
    // Assert
    expect(badAccount).toThrow(/cloudTrail\.trustedAccounts.*12-digit/s);
    expect(badOrg).toThrow(/cloudTrail\.organizationId.*organization id/s);
  });
});
