/** The names an organization's stage gives what it deploys in the central and the member accounts. */
import { SERVICE } from '#shared/state/sharedRecords.ts';

/** The organization's event bus in the central account: members' rules put their events here. */
export const orgBusName = (stage: string): string => `${SERVICE}-${stage}-org`;
// The member role and the runbooks' role are assumed by the running functions: named once, in shared/.
export { memberRoleName, memberRunbookRoleName } from '#shared/organization/names.ts';
/** The role a member's rules put events to the organization's bus with. */
export const forwarderRoleName = (stage: string): string => `${SERVICE}-${stage}-member-forwarder`;
/** The two StackSets, and the files under deploy/org/<stage>/ their templates are kept in. */
export const MEMBER_TEMPLATES = {
  roles: { file: 'member-roles.json', stackSet: 'member-roles' },
  rules: { file: 'member-rules.json', stackSet: 'member-rules' },
} as const;
export type MemberTemplateKind = keyof typeof MEMBER_TEMPLATES;
/** CloudFormation's limit on an inline TemplateBody (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html). */
export const TEMPLATE_BODY_LIMIT = 51_200;
/** IAM's limit on a role or policy name. */
const IAM_NAME_LIMIT = 64;

/** A name AWS would refuse is refused here first, naming the stage that made it too long. */
export function checkedName(name: string, what: string, limit = IAM_NAME_LIMIT): string {
  if (name.length > limit) {
    throw new Error(
      `ops-autopilot: ${what} ${name} is ${name.length} characters; AWS takes ${limit} (shorten the stage name)`,
    );
  }
  return name;
}
