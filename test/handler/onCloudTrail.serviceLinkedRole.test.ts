import { CloudTrailClient, GetTrailStatusCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { describe, expect, it } from 'vitest';
import { cloudTrailHandlerHarness } from '../support/cloudTrailHandler.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/**
 * Through the handler: a service's call through its service-linked role is recorded (the action log
 * names the service) but neither paged nor remediated, in dry-run and live mode; a person's pages.
 */

const onCloudTrail = await cloudTrailHandlerHarness();
const cloudtrail = onCloudTrail.aws.of(CloudTrailClient);

const bySlr = (name: string) => cloudTrailRecord(`service-linked-role/${name}`);

describe('onCloudTrail and AWS services acting through their service-linked roles', () => {
  it('records, and does not page, Firewall Manager disassociating a WAF web ACL', async () => {
    // Act
    const result = await onCloudTrail.invoke(bySlr('wafv2-web-acl-disassociated-by-fms'));
    // Assert
    expect(result.findings).toEqual({ detection: 'security-tooling-disabled', action: 'record' });
    expect(onCloudTrail.published()).toEqual([]);
  });

  it("pages a person's identical call once, naming who", async () => {
    // Arrange
    const record = bySlr('wafv2-web-acl-disassociated-by-fms');
    const person = cloudTrailRecord('evidence/wafv2-web-acl-disassociated').detail.userIdentity;
    record.detail.userIdentity = person;
    // Act
    const result = await onCloudTrail.invoke(record);
    // Assert
    expect(result.findings).toEqual({ detection: 'security-tooling-disabled', action: 'page' });
    expect(onCloudTrail.published()).toHaveLength(1);
    expect(onCloudTrail.published()[0]?.Message).toContain(String(person.arn));
  });

  it.each([
    ['dry-run', true],
    ['live', false],
  ])(
    '%s: a trail stopped by CloudTrail through its service-linked role is neither restarted nor paged',
    async (_mode, dryRun) => {
      // Arrange: the dev stage turns the trail remediation on.
      onCloudTrail.setDryRun(dryRun);
      // Act
      const result = await onCloudTrail.invoke(bySlr('cloudtrail-stop-logging-by-cloudtrail'));
      // Assert
      expect(result.findings).toEqual({ detection: 'cloudtrail-tampering', action: 'record' });
      expect(cloudtrail.commandCalls(StartLoggingCommand)).toEqual([]);
      expect(onCloudTrail.published()).toEqual([]);
    },
  );

  it('live: the same StopLogging by a person restarts the trail and pages', async () => {
    // Arrange
    onCloudTrail.setDryRun(false);
    cloudtrail.on(GetTrailStatusCommand).resolves({ IsLogging: false });
    cloudtrail.on(StartLoggingCommand).resolves({});
    // Act
    const result = await onCloudTrail.invoke(cloudTrailRecord('cloudtrail-stop-logging'));
    // Assert
    expect(result.findings).toEqual({ detection: 'cloudtrail-tampering', action: 'page' });
    expect(cloudtrail.commandCalls(StartLoggingCommand)).toHaveLength(1);
    expect(onCloudTrail.published()).toHaveLength(1);
  });
});
