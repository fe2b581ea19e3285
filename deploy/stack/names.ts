import type { Deployment } from '#functions/index.ts';
import { SERVICE } from '#shared/state/sharedRecords.ts';

/** A template's view of a resource: what the derivations here write and read back. */
export interface CfnResource {
  Type: string;
  Condition?: string;
  DependsOn?: string[];
  Properties: Record<string, unknown>;
}
export type Resources = Record<string, CfnResource>;

/** Where the stack goes: its stage and region, and the repository its pattern files are read from. */
export interface StackTarget {
  stage: string;
  region: string;
  root: string;
  /**
   * On an organization's stage: the role its functions assume in member accounts, whose calls the rules
   * exclude as they exclude the functions' own (deploy/org/names.ts).
   */
  memberRoleName?: string;
}

/** `on-alarm`, `onAlarm`, `global-events-forward` -> `OnAlarm`, `GlobalEventsForward` (logical ids). */
export const pascal = (name: string): string =>
  name
    .replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase())
    .replace(/^[a-z]/, (c) => c.toUpperCase());
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const deployedName = (stage: string, fn: string): string => `${SERVICE}-${stage}-${fn}`;
export const functionRoleName = (stage: string, deployment: Deployment, region: string): string =>
  `${SERVICE}-${stage}-${deployment.roleName}-${region}`;
export const roleId = (fn: string): string => `${pascal(fn)}Role`;
