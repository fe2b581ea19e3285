import { z } from 'zod';
import { BoundedEnvelope, notInFuture, ResourceArn } from '#shared/domain/eventBridge.ts';
import { eventString } from '#shared/domain/text.ts';

/**
 * SSM Automation's "EC2 Automation Execution Status-change Notification" as EventBridge delivers it
 * (one per execution, not per step). The shape is AWS's:
 * https://docs.aws.amazon.com/systems-manager/latest/userguide/monitoring-systems-manager-event-examples.html
 * (what each fixture under events/onRunbookResult/ is based on is in its README).
 *
 * Every field that reaches a decision or a page is bounded: the execution id keys the state-table
 * lookup and the notice's claim (a UUID, 36 characters:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AutomationExecution.html), the
 * resources must name that execution in the event's own account and region, and the times must be
 * readable and not in the future.
 */

/** The results this function acts on: the rule routes only these. */
export const RESULT_STATUSES = ['Failed', 'TimedOut', 'Cancelled', 'Success'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];

export const ExecutionId = eventString().regex(/^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$/, {
  message: 'must be an automation execution id (a UUID, 36 characters)',
});

/** Document names (and shared documents' ARNs): https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateDocument.html */
const DocumentName = eventString().regex(/^[a-zA-Z0-9_\-.:/]{3,256}$/, {
  message: 'must be an SSM document name or ARN (3 to 256 of a-z, A-Z, 0-9, _ - . : /)',
});

/** SSM writes these as `Nov 29, 2016 7:43:20 PM`, in UTC without saying so. */
const utc = (value: string): string =>
  /(Z|[+-]\d{2}:?\d{2}|UTC|GMT)$/i.test(value) || /^\d{4}-\d{2}-\d{2}T/.test(value) ? value : `${value} UTC`;

const executionTime = eventString()
  .min(1)
  .max(64)
  .superRefine((value, ctx) => notInFuture(utc(value), ctx));

/** Epoch ms of an execution time as SSM writes it, or undefined when unreadable. */
export function executionTimeMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(utc(value));
  return Number.isNaN(ms) ? undefined : ms;
}

const ExecutionDetail = z.object({
  ExecutionId,
  Definition: DocumentName,
  DefinitionVersion: z.number().finite().min(0).max(1e9).optional(),
  Status: z.enum(RESULT_STATUSES),
  StartTime: executionTime,
  EndTime: executionTime.optional(),
  /** Milliseconds the execution ran. */
  Time: z.number().finite().min(0).max(1e11).optional(),
  ExecutedBy: ResourceArn.optional(),
});

const executionArn = (partition: string, region: string, account: string, id: string) =>
  `arn:${partition}:ssm:${region}:${account}:automation-execution/${id}`;

export const RunbookResultEvent = BoundedEnvelope.extend({
  source: z.literal('aws.ssm'),
  'detail-type': z.literal('EC2 Automation Execution Status-change Notification'),
  detail: ExecutionDetail,
}).superRefine((event, ctx) => {
  // The execution must be this event's own: no event speaks for another account's or region's execution.
  const own = ['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b'].map((p) =>
    executionArn(p, event.region, event.account, event.detail.ExecutionId),
  );
  if (!event.resources.some((r) => own.includes(r))) {
    ctx.addIssue({
      code: 'custom',
      path: ['resources'],
      message: `must hold the execution's ARN in the event's account and region (${own[0]})`,
    });
  }
});
export type RunbookResultEvent = z.infer<typeof RunbookResultEvent>;
