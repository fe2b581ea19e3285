import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { onCloudTrail } from './spec.ts';

export const handler = lambdaHandler(onCloudTrail);
