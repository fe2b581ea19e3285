import { GetTrailStatusCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { cloudtrail } from '#shared/aws/cloudtrail.ts';
import type { StartLoggingIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import type { MutatingExecutor } from './types.ts';

/** Starts logging on the stopped trail; a trail that logs again already is left alone. */
export const startLoggingExecutor: MutatingExecutor<StartLoggingIntent> = {
  kind: 'cloudtrail.start-logging',
  // Its CloudTrail actions: the statement its remediation grants (functions/onCloudTrail/detections/remediations.ts).
  permissions: [],
  metrics: { done: 'RemediationsDone', refused: { 'already-remediated': 'RemediationsAlreadyDone' } },
  mutates: true,
  budgetMs: 10_000,
  // The incident is the CloudTrail record: a forwarded or redelivered copy of it holds one slot.
  rateGuard: (intent, ctx) => ({
    rule: intent.detection,
    actionId: `${intent.kind}|${ctx.signal.incidentKey}`,
  }),
  preview: (intent) => `start logging on trail ${intent.trail}`,
  async execute(intent) {
    try {
      const status = await cloudtrail.send(new GetTrailStatusCommand({ Name: intent.trail }));
      if (status.IsLogging === true) {
        return skipped(intent.kind, 'already-remediated', `trail ${intent.trail} is logging already`);
      }
      await cloudtrail.send(new StartLoggingCommand({ Name: intent.trail }));
      return done(intent.kind, `started logging on trail ${intent.trail}`, { trail: intent.trail });
    } catch (error) {
      if ((error as { name?: string }).name === 'TrailNotFoundException') {
        return skipped(
          intent.kind,
          'nothing-to-do',
          `trail ${intent.trail} no longer exists: nothing to start`,
        );
      }
      return failed(intent.kind, error, `could not start logging on trail ${intent.trail}`);
    }
  },
};
