import { actionsOf, CHANGE_CALENDAR_ACTION, runtimeStatements } from './statements.ts';

/**
 * The IAM actions a function's runtime needs whatever it does: those of its statements (statements.ts,
 * where they are declared once), on any stage, for any function.
 */
export const RUNTIME_PERMISSIONS: readonly string[] = actionsOf(runtimeStatements('stage', 'function'));

interface DeclaresPermissions {
  permissions: readonly string[];
}

/**
 * Every IAM action a function declares: the runtime's, its gather's reads and its executors' writes.
 * A function's role must hold exactly these (the package test compares them both ways).
 */
export function declaredPermissions(parts: {
  executors: Record<string, DeclaresPermissions>;
  readPermissions: readonly string[];
  /** It checks change calendars on this stage (its role reads them). */
  changeCalendars?: boolean;
  /** On an organization's stage, what acting in member accounts needs (shared/organization/statements.ts). */
  organizationPermissions?: readonly string[];
  /** State-table actions beyond the runtime's it takes acting as another function (ActingFor). */
  stateTableActions?: readonly string[];
}): string[] {
  const all = [
    ...RUNTIME_PERMISSIONS,
    ...(parts.stateTableActions ?? []),
    ...(parts.changeCalendars ? [CHANGE_CALENDAR_ACTION] : []),
    ...(parts.organizationPermissions ?? []),
    ...parts.readPermissions,
    ...Object.values(parts.executors).flatMap((e) => e.permissions),
  ];
  return [...new Set(all)].sort();
}
