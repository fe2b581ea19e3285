import { z } from 'zod';
import { AccountId, BoundedEnvelope, notInFuture, RecordId } from '#shared/domain/eventBridge.ts';
import { boundedText, eventString } from '#shared/domain/text.ts';
import { parseAwsTimestamp } from '#shared/domain/time.ts';

/**
 * Cost Anomaly Detection's "Anomaly Detected" event as EventBridge delivers it. The shape is AWS's:
 * https://docs.aws.amazon.com/cost-management/latest/userguide/cad-eventbridge.html (what each fixture
 * under events/onCostAnomaly/ is based on is in its README).
 *
 * Every field that reaches a decision or a page is bounded: the anomaly id keys the incident, the dates
 * must be readable and not in the future (a future "last updated" would order every real update before
 * it), the amounts are finite and non-negative (a threshold compared with NaN never passes), and the
 * console links stay on AWS's console.
 */

const name = (max: number) => boundedText({ min: 1, max });
const line = (max: number) => boundedText({ max });

/** Dollar amounts and percentages: finite, non-negative, and no larger than any real bill. */
const amount = z.number().finite().min(0).max(1e12);

const awsConsoleLink = eventString()
  .max(2048)
  .refine(
    (s) => {
      if (!URL.canParse(s)) return false;
      const url = new URL(s);
      return (
        url.protocol === 'https:' &&
        /(^|\.)console\.(aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)$/.test(url.hostname)
      );
    },
    { message: "must be an https link to AWS's console" },
  );

const RootCause = z.object({
  service: line(255).optional(),
  region: line(64).optional(),
  linkedAccount: AccountId.optional(),
  linkedAccountName: line(255).optional(),
  usageType: line(255).optional(),
  impact: z.object({ contribution: amount }).optional(),
});

const AnomalyDetail = z
  .object({
    // Anomaly ids are UUIDs: printable ASCII bounds them for keys, pages and page ids.
    anomalyId: RecordId,
    anomalyStartDate: eventString().min(1).max(64).superRefine(notInFuture),
    anomalyEndDate: eventString().min(1).max(64).superRefine(notInFuture),
    accountId: AccountId,
    accountName: line(255).optional(),
    dimensionValue: line(1024).optional(),
    anomalyScore: z.object({ currentScore: amount, maxScore: amount }).optional(),
    feedback: line(64).optional(),
    impact: z.object({
      maxImpact: amount.optional(),
      totalActualSpend: amount,
      totalExpectedSpend: amount,
      totalImpact: amount,
      // Absent when nothing was expected: the percentage is then unbounded.
      totalImpactPercentage: amount.optional(),
    }),
    rootCauses: z.array(RootCause).max(100).default([]),
    monitorArn: eventString().startsWith('arn:').max(2048),
    monitorName: name(1024),
    anomalyDetailsLink: awsConsoleLink,
  })
  .superRefine((d, ctx) => {
    const start = parseAwsTimestamp(d.anomalyStartDate);
    const end = parseAwsTimestamp(d.anomalyEndDate);
    if (start !== undefined && end !== undefined && end < start) {
      ctx.addIssue({
        code: 'custom',
        path: ['anomalyEndDate'],
        message: 'must not be before anomalyStartDate',
      });
    }
  });

export const CostAnomalyEvent = BoundedEnvelope.extend({
  source: z.literal('aws.ce'),
  'detail-type': z.literal('Anomaly Detected'),
  detail: AnomalyDetail,
});
export type CostAnomalyEvent = z.infer<typeof CostAnomalyEvent>;
