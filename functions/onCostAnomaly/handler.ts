import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { onCostAnomaly } from './spec.ts';

export const handler = lambdaHandler(onCostAnomaly);
