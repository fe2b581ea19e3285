import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { onRunbookResult } from './spec.ts';

export const handler = lambdaHandler(onRunbookResult);
