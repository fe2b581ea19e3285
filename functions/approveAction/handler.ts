import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { approveAction } from './spec.ts';

export const handler = lambdaHandler(approveAction);
