import { OrganizationSettings } from '#config/organization.ts';
import { functionSettings } from '#shared/stageSettings.ts';

/**
 * The stage's `organization`, as a running function reads it (the idle scan fans out over its targets).
 * config/stageConfig.ts validates it with the whole stage; a single-account stage leaves it unset.
 */
export const settings = functionSettings({ organization: OrganizationSettings.optional() });
