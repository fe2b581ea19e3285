/**
 * The names an organization's stage gives what the central functions act through in a member account.
 * deploy/org/names.ts re-exports them for the templates, so the role the code assumes is the role the
 * StackSet creates.
 */
import { partitionOf } from '#shared/domain/partition.ts';
import { SERVICE } from '#shared/state/sharedRecords.ts';

/** The role the central functions assume in a member account (IAM: one per account, every region). */
export const memberRoleName = (stage: string): string => `${SERVICE}-${stage}-member`;
/** The role the runbooks onAlarm starts in a member account run as. */
export const memberRunbookRoleName = (stage: string): string => `${SERVICE}-${stage}-member-runbooks`;
/** The StackSet that puts the member roles in each member account: its instances are the served accounts. */
export const memberRolesStackSetName = (stage: string): string => `${SERVICE}-${stage}-member-roles`;

/** A role of a member account by name, in the partition of the region it is used from. */
export const memberRoleArn = (account: string, region: string, roleName: string): string =>
  `arn:${partitionOf(region)}:iam::${account}:role/${roleName}`;
