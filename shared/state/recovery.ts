import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { documents } from '#shared/aws/dynamodb.ts';
import { futureHorizonMs } from '#shared/domain/time.ts';
import { incidentRecordKey as keyOf } from './suppression.ts';
import { stateTable } from './table.ts';

/**
 * Epoch ms of the latest OK seen for the incident, if any. An ALARM whose state timestamp is not later
 * than this was delivered late: the alarm already recovered, so nothing may act on it.
 */
export async function lastRecoveryAt(incidentKey: string): Promise<number | undefined> {
  const res = await documents.send(
    new GetCommand({
      TableName: stateTable(),
      Key: { id: keyOf(incidentKey) },
      ConsistentRead: true,
      ProjectionExpression: 'okAt',
    }),
  );
  const okAt: unknown = res.Item?.okAt;
  // A stored time beyond the clock-skew horizon is no time at all: it must not gate every later ALARM.
  return typeof okAt === 'number' && okAt <= futureHorizonMs() ? okAt : undefined;
}
