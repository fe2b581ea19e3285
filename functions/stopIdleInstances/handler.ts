import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { stopIdleInstances } from './spec.ts';

export const handler = lambdaHandler(stopIdleInstances);
