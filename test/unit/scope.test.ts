import { describe, expect, it } from 'vitest';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { cloudTrailScope } from '#functions/onCloudTrail/signal.ts';
import { CostAnomalyEvent } from '#functions/onCostAnomaly/schema.ts';
import { onCostAnomaly } from '#functions/onCostAnomaly/spec.ts';
import { IdleScanEvent } from '#functions/stopIdleInstances/schema.ts';
import { stopIdleInstances } from '#functions/stopIdleInstances/spec.ts';
import { envelopeScope, LOCAL_ACCOUNT, UNKNOWN_REGION } from '#shared/runtime/functionSpec.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { type CloudTrailRecordOverrides, cloudTrailRecord } from '../support/events/index.ts';

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const HOME = { ...SITE, region: 'eu-west-1' };
const paths = (issues: { path: string }[]) => issues.map((i) => i.path);
const cloudTrail = (fixture: string, overrides: CloudTrailRecordOverrides = {}) =>
  CloudTrailEvent.parse(cloudTrailRecord(fixture, overrides));

describe('envelope scope', () => {
  it('refuses another account and another region, naming both fields and where the function runs', () => {
    // Act
    const issues = envelopeScope({ account: '999999999999', region: 'eu-west-1' }, SITE);
    // Assert
    expect(issues).toEqual([
      {
        path: 'account',
        message:
          'the event is from account 999999999999; this function runs in 123456789012 and acts only on its own',
      },
      {
        path: 'region',
        message:
          'the event is from region eu-west-1; this function runs in us-east-1 and acts only on its own',
      },
    ]);
  });

  it("does not compare the account on a local invoke (it knows none), but does compare the environment's region", () => {
    // Act
    const local = { ...SITE, account: LOCAL_ACCOUNT };
    const anyAccount = envelopeScope({ account: '999999999999', region: 'us-east-1' }, local);
    const otherRegion = envelopeScope({ account: '999999999999', region: 'eu-west-1' }, local);
    const noRegion = envelopeScope(
      { account: '999999999999', region: 'eu-west-1' },
      { ...local, region: UNKNOWN_REGION },
    );
    // Assert
    expect(anyAccount).toEqual([]);
    expect(paths(otherRegion)).toEqual(['region']);
    expect(noRegion).toEqual([]);
  });
});

describe('onCloudTrail scope', () => {
  it('accepts a global service record from us-east-1 at its home region: the forward rule keeps its region', () => {
    // Act
    const signIn = cloudTrailScope(cloudTrail('root-console-sign-in.json'), HOME);
    const iam = cloudTrailScope(cloudTrail('iam-attach-admin-to-role.json'), HOME);
    // Assert
    expect(signIn).toEqual([]);
    expect(iam).toEqual([]);
  });

  it('refuses a regional record of another region, and a global one from a region that is not us-east-1', () => {
    // Act
    const regional = cloudTrailScope(cloudTrail('security-group-open-world.json'), HOME);
    const globalElsewhere = cloudTrailScope(
      cloudTrail('iam-attach-admin-to-role.json', { region: 'ap-south-1' }),
      HOME,
    );
    // Assert
    expect(paths(regional)).toEqual(['region']);
    expect(paths(globalElsewhere)).toEqual(['region']);
  });

  it('refuses a global record of another account even from us-east-1', () => {
    // Act
    const issues = cloudTrailScope(
      cloudTrail('iam-attach-admin-to-role.json', { account: '999999999999' }),
      HOME,
    );
    // Assert
    expect(paths(issues)).toEqual(['account']);
  });

  it('refuses a record CloudTrail delivered to another account, whatever the envelope says', () => {
    // Act
    const issues = cloudTrailScope(
      cloudTrail('security-group-open-world.json', { recipientAccountId: '999999999999' }),
      SITE,
    );
    // Assert
    expect(issues).toEqual([
      {
        path: 'detail.recipientAccountId',
        message:
          'the record was delivered to account 999999999999; this function runs in 123456789012 and acts only on its own',
      },
    ]);
  });

  it('accepts its own records, and any account on a local invoke', () => {
    // Act
    const own = cloudTrailScope(cloudTrail('security-group-open-world.json'), SITE);
    const local = cloudTrailScope(
      cloudTrail('security-group-open-world.json', {
        account: '999999999999',
        recipientAccountId: '999999999999',
      }),
      { ...SITE, account: LOCAL_ACCOUNT },
    );
    // Assert
    expect(own).toEqual([]);
    expect(local).toEqual([]);
  });
});

describe('onCostAnomaly and stopIdleInstances scope', () => {
  it("accepts a payer account's anomaly whose root causes are in a linked account", () => {
    // Arrange
    const event = CostAnomalyEvent.parse(loadFixture('onCostAnomaly/linked-account.json'));
    // Act
    const issues = onCostAnomaly.scope(event, SITE);
    // Assert
    expect(issues).toEqual([]);
  });

  it('checks the envelope of a scheduled run; a manual payload has none to check', () => {
    // Arrange
    const scheduled = IdleScanEvent.parse(loadFixture('stopIdleInstances/scheduled-event.json'));
    const manual = IdleScanEvent.parse(loadFixture('stopIdleInstances/manual-dry-run.json'));
    // Act
    const elsewhere = stopIdleInstances.scope(scheduled, HOME);
    const manualElsewhere = stopIdleInstances.scope(manual, HOME);
    // Assert
    expect(paths(elsewhere)).toEqual(['region']);
    expect(manualElsewhere).toEqual([]);
  });
});
