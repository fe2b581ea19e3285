import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awaitApproval } from '#shared/approval/pending.ts';
import type { SharedConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { ExecutionContext, MutatingExecutor } from '#shared/executors/types.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { type ApprovalTable, approvalTable } from '../support/approvalTable.ts';

// Handler layer (the state table mocked): the page's approve command must reach approveAction where the
// stack runs. On an organization's stage a worker run acts in its target's region (the idle scan of a
// listed region), while approveAction is deployed only where the stack is: the command names the latter.
const aws = await mockAwsClients();
let table: ApprovalTable;
const STACK_REGION = 'us-east-1';

beforeEach(() => {
  aws.reset();
  aws.answerAsEmptyStateTable();
  table = approvalTable(aws);
  process.env.AWS_REGION = STACK_REGION;
});

afterEach(() => {
  process.env.AWS_REGION = STACK_REGION;
});

const stopList = { kind: 'ec2.stop-instances', instanceIds: ['i-0123456789abcdef0'] } as unknown as Intent;
const executor = {
  kind: 'ec2.stop-instances',
  mutates: true,
  preview: () => 'stop i-0123456789abcdef0',
} as unknown as MutatingExecutor<Intent, SharedConfig>;

function contextIn(region: string): ExecutionContext<SharedConfig> {
  return {
    config: {
      stage: 'org',
      functionName: 'stopIdleInstances',
      approvals: { expiryMinutes: 60 },
    } as unknown as SharedConfig,
    signal: {
      correlationId: 'scan-run-1',
      incidentKey: 'idle-scan#111122223333#eu-west-1',
      account: '111122223333',
      region,
    } as unknown as Signal,
    prior: [],
  };
}

describe('the approve command of a pending action', () => {
  it("names the stack's region, not the region the worker run acted in", async () => {
    // Act
    const outcome = await awaitApproval('stopIdleInstances', executor, stopList, contextIn('eu-west-1'), {
      rule: 'idle-stop',
      recheck: {},
    });
    // Assert
    expect(outcome.reason).toBe('approval-pending');
    expect(outcome.detail).toContain(`--region ${STACK_REGION} -f approveAction`);
    expect(outcome.detail).not.toContain('--region eu-west-1');
    expect(table.approvals()).toHaveLength(1);
  });

  it("falls back to the event's region where the process has none (a local run without AWS_REGION)", async () => {
    // Arrange
    delete process.env.AWS_REGION;
    // Act
    const outcome = await awaitApproval('stopIdleInstances', executor, stopList, contextIn('eu-west-1'), {
      rule: 'idle-stop',
      recheck: {},
    });
    // Assert
    expect(outcome.detail).toContain('--region eu-west-1 -f approveAction');
  });
});
