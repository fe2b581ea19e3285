import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineResult } from '#shared/runtime/functionSpec.ts';
import { setDryRun, startEmulatedStack } from '../support/emulator.ts';
import { loadFixture } from '../support/events.ts';
import { makeContext } from '../support/lambda.ts';
import { createLocalStack, type LocalStack } from '../support/localStack.ts';
import type { Moto } from '../support/moto.ts';

let moto: Moto;
let stack: LocalStack;
let handler: typeof import('#functions/onCloudTrail/handler.ts').handler;

const STACK = 'ops-autopilot-cloudtrail';
const invoke = (event: unknown) =>
  handler(event as never, makeContext('ops-autopilot-dev-onCloudTrail')) as Promise<PipelineResult>;
type Raw = { id: string; detail: { eventID: string } };
const fixture = (name: string) => loadFixture<Raw>(`onCloudTrail/${name}.json`);

beforeAll(async () => {
  moto = await startEmulatedStack(STACK);
  ({ handler } = await import('#functions/onCloudTrail/handler.ts'));
});
afterAll(async () => {
  await moto?.stop();
});
beforeEach(async () => {
  await moto.reset();
  stack = await createLocalStack(STACK);
  setDryRun(true);
});

describe('onCloudTrail against the emulator', () => {
  it.each([
    ['security-group-open-world', 'opened: tcp 22 from 0.0.0.0/0'],
    ['security-group-open-world-ipv6', 'opened: tcp 3389 from ::/0'],
    ['security-group-open-world-flat', 'opened: tcp 5432 from 0.0.0.0/0'],
    ['security-group-modify-rules-world', 'opened: sgr-0a1b2c3d4e5f67890: tcp 443 from 0.0.0.0/0'],
    ['s3-bucket-policy-public', 'publicStatement: {"Sid":"PublicRead","Effect":"Allow","Principal":"*"'],
    ['s3-bucket-acl-all-users', 'publicGrant: READ to AllUsers'],
    ['s3-public-access-block-deleted', 's3 bucket example-reports'],
    ['s3-public-access-block-off', 'turnedOff: BlockPublicAcls, IgnorePublicAcls'],
    ['cloudtrail-stop-logging', 'stopped logging'],
    ['cloudtrail-delete-trail', 'trail management-events deleted'],
    ['cloudtrail-event-selectors-read-only', 'no longer records write management events'],
    ['iam-attach-admin-to-role', 'policyArn: arn:aws:iam::aws:policy/AdministratorAccess'],
    ['iam-put-user-policy-star', 'statement: {"Effect":"Allow","Action":"*","Resource":"*"}'],
    ['root-create-access-key', 'newAccessKeyId: AKIAEXAMPLEROOTKEY12'],
    ['root-console-sign-in', 'the root user signed in to the console'],
    ['console-sign-in-no-mfa', 'MFAUsed: No'],
    ['guardduty-delete-detector', 'GuardDuty detector 12abc34d567e8fa901bc2d34e56789f0 deleted'],
    ['vpc-delete-flow-logs', 'VPC flow logs deleted: fl-0123456789abcdef0'],
    ['config-stop-recorder', 'AWS Config recorder default stopped'],
    ['kms-schedule-key-deletion', 'pendingWindowInDays: 7'],
  ])('pages %s once, with who, what and where', async (name, what) => {
    // Arrange
    const event = fixture(name);
    // Act
    await invoke(event);
    await invoke(structuredClone(event));
    // Assert
    const pages = await stack.readPages();
    expect(pages).toHaveLength(1);
    const body = pages[0]?.body ?? '';
    expect(body).toContain(what);
    expect(body).toContain('principalType: ');
    expect(body).toContain('Account 123456789012, region us-east-1');
    expect(body).toContain('sourceIPAddress: ');
    expect(body).toContain(`#/events/${event.detail.eventID}`);
    expect(pages[0]?.attributes.kind).toBe('cloudtrail.detection');
  });

  it('pages a forwarded copy of a record (a new envelope id, the same CloudTrail event id) once', async () => {
    // Arrange
    const event = fixture('security-group-open-world');
    const forwarded = { ...structuredClone(event), id: crypto.randomUUID() };
    // Act
    await invoke(event);
    await invoke(forwarded);
    // Assert
    expect(await stack.readPages()).toHaveLength(1);
  });

  it.each([
    ['security-group-ingress-32', 'security-group-change'],
    ['s3-bucket-policy-private', 's3-bucket-policy-change'],
    ['console-sign-in-failure', 'console-sign-in-failure'],
    ['unauthorized-api-call', 'unauthorized-api-call'],
  ])('records %s in the action log as %s, without a page', async (name, detection) => {
    // Act
    await invoke(fixture(name));
    // Assert
    expect(await stack.readPages()).toEqual([]);
    const log = (await stack.scanTable()).filter((r) => String(r.id).includes('#action#'));
    expect(log).toHaveLength(1);
    expect(JSON.stringify(log[0])).toContain(`detection ${detection}`);
    expect(JSON.stringify(log[0])).toContain('record-only');
  });

  it.each(['console-sign-in-mfa-upper-case', 'console-sign-in-saml', 'console-sign-in-identity-center'])(
    'pages nothing for %s',
    async (name) => {
      // Act
      const result = await invoke(fixture(name));
      // Assert
      expect(await stack.readPages()).toEqual([]);
      expect(result.notes.map((n) => n.reason)).toEqual(['no-matching-rule']);
    },
  );
});
