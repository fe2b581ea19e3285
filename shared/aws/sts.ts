/**
 * The STS client the central functions assume a member account's role with (shared/organization/
 * credentials.ts), loaded with import() only on an organization's stage: a single-account bundle never
 * runs it at start-up.
 */
import { STSClient } from '@aws-sdk/client-sts';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export { AssumeRoleCommand } from '@aws-sdk/client-sts';

export const sts = boundToInvocation(tracer.captureAWSv3Client(new STSClient(sdkClientSettings())));
