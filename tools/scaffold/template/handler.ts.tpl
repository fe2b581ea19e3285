import { lambdaHandler } from '#shared/runtime/middleware.ts';
import { __NAME__ } from './spec.ts';

export const handler = lambdaHandler(__NAME__);
