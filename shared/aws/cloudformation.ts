/**
 * The CloudFormation client that lists the member-roles StackSet's instances (the served accounts,
 * shared/organization/servedAccounts.ts), loaded with import() only on an organization's stage.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export { ListStackInstancesCommand } from '@aws-sdk/client-cloudformation';

export const cloudformation = boundToInvocation(
  tracer.captureAWSv3Client(new CloudFormationClient(sdkClientSettings())),
);
