import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { queryApprovals } from '#shared/state/approvalQuery.ts';
import { decisionsArguments } from '../../scripts/decisions/arguments.ts';
import { approvalsTable } from '../../scripts/decisions/table.ts';

// npm run decisions -- --approvals: the pending and expired approvals, found through the action log's
// byDay index (no scan), each read from its own record.
const PENDING = `ap-${'1'.repeat(32)}`;
const EXPIRED = `ap-${'2'.repeat(32)}`;
const APPROVED = `ap-${'3'.repeat(32)}`;
const NOW = Date.parse('2026-12-06T12:00:00Z');
const nowS = NOW / 1000;

function logEntry(approvalId: string, at: string) {
  return {
    type: 'action',
    functionName: 'ops-autopilot-prod-onAlarm',
    incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high',
    decision: 'skipped',
    intentKind: 'ssm.start-automation',
    reason: 'approval-pending',
    detail: `waits for approval ${approvalId}: would start AWS-RestartEC2Instance InstanceId=i-1 (rule r). Approve ...`,
    at,
    day: at.slice(0, 10),
  };
}

function record(approvalId: string, status: string, expiresAt: number) {
  return {
    approvalId,
    status,
    stage: 'prod',
    owner: 'onAlarm',
    incidentKey: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:web-cpu-high',
    preview: 'start AWS-RestartEC2Instance InstanceId=i-1 (rule r)',
    createdAt: expiresAt - 3600,
    expiresAt,
  };
}

describe('npm run decisions -- --approvals', () => {
  it('lists pending and expired approvals, newest first, and leaves out decided ones', async () => {
    // Arrange
    const documents = mockClient(DynamoDBDocumentClient);
    // Today's partition holds them; yesterday's is empty.
    documents
      .on(QueryCommand, { ExpressionAttributeValues: { ':day': '2026-12-05' } })
      .resolves({ Items: [] });
    documents.on(QueryCommand, { ExpressionAttributeValues: { ':day': '2026-12-06' } }).resolves({
      Items: [
        logEntry(PENDING, '2026-12-06T11:50:00.000Z'),
        logEntry(APPROVED, '2026-12-06T11:40:00.000Z'),
        logEntry(EXPIRED, '2026-12-06T09:00:00.000Z'),
      ],
    });
    const records: Record<string, unknown> = {
      [`ops-autopilot-prod#shared#approval#${PENDING}`]: record(PENDING, 'pending', nowS + 600),
      [`ops-autopilot-prod#shared#approval#${EXPIRED}`]: record(EXPIRED, 'pending', nowS - 600),
      [`ops-autopilot-prod#shared#approval#${APPROVED}`]: record(APPROVED, 'approved', nowS + 600),
    };
    documents.on(GetCommand).callsFake((input: { Key: { id: string } }) => ({ Item: records[input.Key.id] }));
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    // Act
    const rows = await queryApprovals(client, {
      table: 't',
      sinceMs: NOW - 86_400_000,
      nowMs: NOW,
      limit: 20,
    });
    // Assert
    expect(rows.map((r) => [r.approvalId, r.state])).toEqual([
      [PENDING, 'pending'],
      [EXPIRED, 'expired'],
    ]);
    const filters = documents.commandCalls(QueryCommand).map((c) => c.args[0].input.FilterExpression);
    expect(filters.every((f) => f === '#reason = :pending')).toBe(true);
    const printed = approvalsTable(rows);
    expect(printed).toContain(PENDING);
    expect(printed).toContain('expired');
    documents.restore();
  });

  it('takes --approvals on the command line', () => {
    // Act
    const parsed = decisionsArguments(['--approvals', '--stage', 'prod']);
    // Assert
    expect(parsed).toMatchObject({ kind: 'query', options: { approvals: true, stage: 'prod' } });
  });
});
