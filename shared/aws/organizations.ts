/**
 * The Organizations client that names a member account and its OU path in its pages (shared/organization/accountNames.ts, ouPaths.ts),
 * loaded with import() only on an organization's stage, only when a member's page is sent.
 */
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { tracer } from '#shared/runtime/powertools.ts';
import { boundToInvocation, sdkClientSettings } from './client.ts';

export {
  DescribeAccountCommand,
  DescribeOrganizationalUnitCommand,
  ListParentsCommand,
} from '@aws-sdk/client-organizations';

// One retry: a page does not wait long for a name.
export const organizations = boundToInvocation(
  tracer.captureAWSv3Client(new OrganizationsClient(sdkClientSettings(2))),
);
