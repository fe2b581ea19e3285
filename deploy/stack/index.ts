/**
 * What plugins/ops-config.cjs adds to the stack, derived from the function registry: pure functions of
 * the target (stage, region), the registry and the stage's validated configuration.
 */

import type { RegistryEntry } from '#functions/index.ts';
import { automationRoleStatements } from '#functions/onAlarm/deployment.ts';
import { organizationResources } from '../org/central.ts';
import type { OrganizationStageConfig } from '../org/member.ts';
import { memberRoleName } from '../org/names.ts';
import { scanFanOutResources } from '../org/scanFanOut.ts';
import { selfAlarms } from './alarms.ts';
import { dashboard } from './dashboard.ts';
import { globalEventsForwarding } from './forwarding.ts';
import { functionEntry } from './functionEntry.ts';
import { type Resources, roleId, type StackTarget } from './names.ts';
import { READ_ONLY_FUNCTION, readOnlyRule } from './readOnlyRule.ts';
import { functionRole, type StageConfig } from './roles.ts';

export { functionEntry } from './functionEntry.ts';

/**
 * Where the stack goes. An organization's stage goes to its home region alone (its bus, and the one
 * region of the member roles), and its rules exclude the member role as they exclude the functions'.
 */
export function stackTarget(
  stage: string,
  region: string,
  root: string,
  stageConfig: StageConfig,
): StackTarget {
  const { organization } = stageConfig;
  if (organization === undefined) return { stage, region, root };
  if (region !== organization.homeRegion) {
    throw new Error(
      `stage "${stage}" is an organization's central stack in organization.homeRegion ${organization.homeRegion}; it cannot go to ${region}`,
    );
  }
  return { stage, region, root, memberRoleName: memberRoleName(stage) };
}

/** Each function's serverless.yml entry, by name; `schedules` holds the stage params scheduled ones name. */
export function functionEntries(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  schedules: Readonly<Record<string, string>>,
): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    registry.map((entry) => {
      const { trigger } = entry.deployment;
      const schedule = 'scheduleParam' in trigger ? schedules[trigger.scheduleParam] : undefined;
      return [entry.name, functionEntry(target, registry, entry, schedule)];
    }),
  );
}

/** The automation role's policies: what the configured runbooks need; none on a stage without runbooks. */
export function runbookPolicies(stageConfig: StageConfig): unknown[] {
  const statements = automationRoleStatements(stageConfig);
  if (statements.length === 0) return [];
  return [
    { PolicyName: 'configured-runbooks', PolicyDocument: { Version: '2012-10-17', Statement: statements } },
  ];
}

/**
 * Each registered function's role and alarms, the global-events forward rules, an organization's bus,
 * rules and member StackSets (deploy/org/central.ts) and the dashboard, added
 * to the compiled resources. `lambdaIds` names each function's logical id; `laterResources` are those
 * merged after this (serverless.yml's own), whose alarms the dashboard shows too.
 */
export function addFunctionResources(
  target: StackTarget,
  registry: readonly RegistryEntry[],
  stageConfig: StageConfig,
  resources: Resources,
  lambdaIds: ReadonlyMap<string, string>,
  laterResources: Resources = {},
): void {
  for (const entry of registry) {
    const lambdaId = lambdaIds.get(entry.name);
    if (lambdaId === undefined || !resources[lambdaId]) {
      throw new Error(`ops-autopilot: ${entry.name} is not in the template`);
    }
    resources[roleId(entry.name)] = functionRole(target, entry, stageConfig);
    Object.assign(resources, selfAlarms(target, entry, lambdaId));
  }
  const forwarding = globalEventsForwarding(target, registry);
  Object.assign(resources, forwarding.resources);
  const readOnlyLambda = lambdaIds.get(READ_ONLY_FUNCTION);
  if (readOnlyLambda !== undefined) {
    Object.assign(resources, readOnlyRule(target, registry, stageConfig, readOnlyLambda));
  }
  if (stageConfig.organization !== undefined) {
    const organizationStage = stageConfig as OrganizationStageConfig;
    Object.assign(resources, organizationResources(target, registry, organizationStage, lambdaIds));
    Object.assign(resources, scanFanOutResources(target, registry, lambdaIds, resources));
  }
  const all = { ...resources, ...laterResources };
  const alarms = Object.entries(all).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
  resources.Dashboard = dashboard(target, registry, lambdaIds, alarms, forwarding.suffixes);
}

/** Each function names its own role with GetAtt, which already orders creation (cfn-lint W3005). */
export function dropRedundantRoleDependencies(resources: Resources): void {
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function' || !Array.isArray(resource.DependsOn)) continue;
    const role = resource.Properties.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
    const roleOf = role?.['Fn::GetAtt']?.[0];
    if (roleOf) resource.DependsOn = resource.DependsOn.filter((d) => d !== roleOf);
  }
}
