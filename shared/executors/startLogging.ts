import { GetTrailStatusCommand, StartLoggingCommand } from '@aws-sdk/client-cloudtrail';
import { cloudtrail } from '#shared/aws/cloudtrail.ts';
import type { StartLoggingIntent } from '#shared/domain/intent.ts';
import { remediationExecutor } from './remediation.ts';

/** Starts logging on the stopped trail; a trail that logs again already is left alone. */
export const startLoggingExecutor = remediationExecutor<StartLoggingIntent, typeof cloudtrail>({
  kind: 'cloudtrail.start-logging',
  preview: (intent) => `start logging on trail ${intent.trail}`,
  aws: async () => cloudtrail,
  async remediate(intent, client) {
    const status = await client.send(new GetTrailStatusCommand({ Name: intent.trail }));
    if (status.IsLogging === true) return { already: `trail ${intent.trail} is logging already` };
    await client.send(new StartLoggingCommand({ Name: intent.trail }));
    return { done: `started logging on trail ${intent.trail}`, refs: { trail: intent.trail } };
  },
  errors: {
    goneErrors: new Set(['TrailNotFoundException']),
    gone: (intent) => `trail ${intent.trail} no longer exists: nothing to start`,
    failure: (intent) => `could not start logging on trail ${intent.trail}`,
  },
});
