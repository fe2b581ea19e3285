import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { onBackupFailure } from './spec.ts';

export const handler = lambdaHandler(onBackupFailure);
