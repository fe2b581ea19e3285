/** Queries on the packaged template the package tests share (test/package/*.package.test.ts). */
import { registry } from '#functions/index.ts';
import { loadFixture } from '../../tools/local/events.ts';
import type { PackagedRule, Template } from '../../tools/local/packaged.ts';

export const RESTART_DEFINITION =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
  'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-definition/AWS-RestartEC2Instance:*';
export const KILL_SWITCH_PARAMETER =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
  'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/ops-autopilot/dev/mode';
/** The account's hourly stop budget on the dev stage: the one state-table key two roles share. */
export const SHARED_STOP_BUDGET = 'ops-autopilot-dev#shared#stop-budget';

export type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

export function roleStatements(template: Template, roleId: string): Statement[] {
  const role = template.Resources[roleId];
  const policies = (role?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

export const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

export const functions = registry.map((entry) => [entry.name, entry] as const);

export function roleOf(template: Template, fn: string): Statement[] {
  const resource = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.FunctionName).endsWith(`-${fn}`),
  );
  const roleId = (resource?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.[
    'Fn::GetAtt'
  ][0];
  if (!roleId) throw new Error(`no function ${fn} in the template`);
  return roleStatements(template, roleId);
}

/** The roles this stack gives its functions on the dev stage in us-east-1, as the rules must exclude them. */
export const OWN_ROLE_NAMES = registry.map(
  ({ deployment }) => `ops-autopilot-dev-${deployment.roleName}-us-east-1`,
);

/** The global-events forward rules (us-east-1 to the home region's bus), in order. */
export function forwardRules(template: Template): PackagedRule[] {
  return Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === 'AWS::Events::Rule' && id.startsWith('GlobalEventsForwardRule'))
    .map(([logicalId, r]) => ({
      logicalId,
      name: String(r.Properties.Name),
      functionName: 'forward-global-events',
      pattern: r.Properties.EventPattern as Record<string, unknown>,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A CloudTrail fixture made by an assumed-role session of the role named `role`. */
export function callByRole(fixture: string, role: string) {
  const event = loadFixture<{
    detail: { userIdentity: { arn?: string; sessionContext?: { sessionIssuer?: Record<string, string> } } };
  }>(fixture);
  const identity = event.detail.userIdentity;
  identity.arn = `arn:aws:sts::123456789012:assumed-role/${role}/session`;
  identity.sessionContext = {
    ...identity.sessionContext,
    sessionIssuer: {
      type: 'Role',
      principalId: 'AROAEXAMPLEROLEID1234',
      arn: `arn:aws:iam::123456789012:role/${role}`,
      accountId: '123456789012',
      userName: role,
    },
  };
  return event;
}

/** Roles named like this stack's that are not its roles: a backdoor, another stage's, another region's. */
export const LOOKALIKE_ROLES = [
  'ops-autopilot-backdoor',
  'ops-autopilot-dev-x',
  'ops-autopilot-prod-on-cloudtrail-us-east-1',
  'ops-autopilot-dev-on-cloudtrail-eu-west-1',
  'ops-autopilot-dev-on-cloudtrail-us-east-1-backdoor',
];

/** Every EventBridge rule that invokes one of the functions (pattern or schedule), by name. */
export function functionRuleNames(template: Template): string[] {
  return Object.values(template.Resources)
    .filter(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties.Targets ?? []).includes('LambdaFunction'),
    )
    .map((r) => String(r.Properties.Name));
}
