import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { registry } from '#functions/index.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { metrics } from '#shared/runtime/powertools.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { withoutKillSwitch } from '../../tools/local/killSwitch.ts';
import { makeContext } from '../../tools/local/lambda.ts';

// Handler layer: every client any function uses is mocked (the kit finds them all), so "no AWS call"
// covers them all.
const aws = await mockAwsClients();
const ssm = aws.of(SSMClient);
const clients = {
  dynamodb: aws.of(DynamoDBClient),
  documents: aws.of(DynamoDBDocumentClient),
  sns: aws.of(SNSClient),
};

type Envelope = { account: string; region: string } & Record<string, unknown>;
const hasEnvelope = (event: Record<string, unknown>): event is Envelope =>
  typeof event.account === 'string' && typeof event.region === 'string';

/**
 * The function's sample fixture, or (when the sample is a manual payload without an envelope, as
 * stopIdleInstances') its first valid fixture that has one.
 */
function envelopeFixture(name: string, sample: string): Envelope {
  const candidates = [
    sample,
    ...listFixtures().filter((f) => f.startsWith(`${name}/`) && !f.includes('/invalid/')),
  ];
  for (const path of candidates) {
    const event = loadFixture(path);
    if (hasEnvelope(event)) return event;
  }
  throw new Error(`${name} has no fixture with an account and a region`);
}

/** The event moved wholesale (its ARNs too) to another account or region: consistent, just not here. */
function moved(event: Envelope, field: 'account' | 'region', to: string): Envelope {
  return JSON.parse(JSON.stringify(event).replaceAll(event[field], to)) as Envelope;
}

/** A Lambda context of the function deployed in the event's own account and region. */
function contextAt(name: string, event: Envelope) {
  const context = makeContext(`ops-autopilot-dev-${name}`);
  context.invokedFunctionArn = `arn:aws:lambda:${event.region}:${event.account}:function:ops-autopilot-dev-${name}`;
  return context;
}

beforeEach(() => {
  aws.reset();
  withoutKillSwitch(ssm);
  process.env.DRY_RUN = 'false';
  resetConfigForTests();
  clients.dynamodb.on(PutItemCommand).resolves({});
  clients.dynamodb.on(GetItemCommand).resolves({});
});

// A function invoked by hand (approveAction) takes no event: its input names no account or region, and
// the approval record says which stage it belongs to (refused as foreign-stage otherwise).
const entries = registry.filter((e) => !('manual' in e.deployment.trigger)).map((e) => [e.name, e] as const);

describe.each(entries)('%s refuses an event of another account or region', (name, entry) => {
  const own = envelopeFixture(name, entry.deployment.sampleFixture);

  it.each([
    ['account', '999999999999'],
    ['region', 'eu-west-1'],
  ] as const)(
    'with its %s changed to %s: InvalidEventError naming the field, counted, no AWS call, no page',
    async (field, foreign) => {
      // Arrange
      const handler = await entry.loadHandler();
      const addMetric = vi.spyOn(metrics, 'addMetric');
      const event = moved(own, field, foreign);
      // Act
      const error = (await handler(event, contextAt(name, own)).catch((e: unknown) => e)) as Error;
      // Assert
      expect(error.name).toBe('InvalidEventError');
      expect(error.message).toContain(`${field}: `);
      expect(error.message).toContain(foreign);
      expect(addMetric).toHaveBeenCalledWith('InvalidEvent', 'Count', 1);
      // The kill switch is read only when a live run plans a mutation: never here either.
      expect(aws.calls()).toEqual([]);
      addMetric.mockRestore();
    },
  );

  it('in its own account and region, gets past the scope check (its idempotency record is written)', async () => {
    // Arrange
    const handler = await entry.loadHandler();
    // Act
    const error = await handler(structuredClone(own), contextAt(name, own)).catch((e: unknown) => e);
    // Assert
    expect((error as Error | undefined)?.name).not.toBe('InvalidEventError');
    expect(clients.dynamodb.commandCalls(PutItemCommand).length).toBeGreaterThan(0);
  });
});

describe('onCloudTrail at the home region of global events', () => {
  it("pages a console sign-in forwarded from us-east-1 (the forward rule keeps the record's region)", async () => {
    // Arrange
    const entry = registry.find((e) => e.name === 'onCloudTrail');
    if (!entry) throw new Error('onCloudTrail is not registered');
    const handler = await entry.loadHandler();
    clients.documents.on(UpdateCommand).resolves({ Attributes: { repeats: 0 } });
    clients.documents.on(GetCommand).resolves({});
    clients.documents.on(PutCommand).resolves({});
    clients.documents.on(BatchWriteCommand).resolves({});
    clients.sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const signIn = loadFixture<Envelope>('onCloudTrail/root-console-sign-in.json');
    // Act
    await handler(signIn, contextAt('onCloudTrail', { ...signIn, region: 'eu-west-1' }));
    // Assert
    expect(signIn.region).toBe('us-east-1');
    expect(clients.sns.commandCalls(PublishCommand)).toHaveLength(1);
  });
});
