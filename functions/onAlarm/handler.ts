import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { onAlarm } from './spec.ts';

export const handler = lambdaHandler(onAlarm);
