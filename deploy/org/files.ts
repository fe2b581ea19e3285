/**
 * The member templates of every organization's stage, as kept under deploy/org/<stage>/ for review:
 * `npm run org:templates` writes them, a unit test fails when they differ from what the registry makes.
 */
import { join } from 'node:path';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { registry } from '#functions/index.ts';
import { stackTarget } from '../stack/index.ts';
import { type MemberTemplate, memberTemplates, type OrganizationStageConfig } from './member.ts';
import { MEMBER_TEMPLATES, type MemberTemplateKind } from './names.ts';

/** A member template's file, relative to the repository. */
export const memberTemplatePath = (stage: string, kind: MemberTemplateKind): string =>
  join('deploy', 'org', stage, MEMBER_TEMPLATES[kind].file);

/** Each organization's stage's member templates, by their path relative to the repository. */
export function generatedMemberTemplates(root: string): Map<string, MemberTemplate> {
  const files = new Map<string, MemberTemplate>();
  for (const [name, raw] of Object.entries(stages)) {
    const stage = parseStageConfig(name, raw);
    if (stage.organization === undefined) continue;
    const target = stackTarget(name, stage.organization.homeRegion, root, stage);
    const templates = memberTemplates(target, registry, stage as OrganizationStageConfig);
    for (const kind of Object.keys(MEMBER_TEMPLATES) as MemberTemplateKind[]) {
      files.set(memberTemplatePath(name, kind), templates[kind]);
    }
  }
  return files;
}
