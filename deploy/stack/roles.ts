import type { IamStatement, RegistryEntry } from '#functions/index.ts';
import { organizationStatements } from '#shared/organization/statements.ts';
import { runtimeStatements } from '#shared/runtime/statements.ts';
import { type CfnResource, functionRoleName, kebab, type StackTarget } from './names.ts';

/** The stage's validated configuration, as the deployments take it. */
export type StageConfig = Parameters<RegistryEntry['deployment']['statements']>[0];

/**
 * A function's statements: the runtime's (shared/runtime/statements.ts) first, on an organization's
 * stage what acting in member accounts needs (shared/organization/statements.ts), then its deployment's own.
 */
export function functionStatements(
  stage: string,
  { name, deployment }: RegistryEntry,
  stageConfig: StageConfig,
): IamStatement[] {
  return [
    ...runtimeStatements(stage, name, {
      stateTableActions: deployment.stateTableActions ?? [],
      sharedState: deployment.sharedStateRecords?.(stageConfig) ?? [],
      changeCalendars: deployment.changeCalendars?.(stageConfig) ?? [],
      actsFor: deployment.actsFor?.(stageConfig) ?? [],
    }),
    ...organizationStatementsOf(stage, deployment, stageConfig),
    ...deployment.statements(stageConfig),
  ];
}

/**
 * What acting in member accounts needs, on an organization's stage (none elsewhere): without the member
 * role's AssumeRole for a function that acts in no member account there (its `actsInMembers`).
 */
export function organizationStatementsOf(
  stage: string,
  deployment: RegistryEntry['deployment'],
  stageConfig: StageConfig,
): IamStatement[] {
  if (!stageConfig.organization) return [];
  const statements = organizationStatements(stage, stageConfig.organization.id);
  if (deployment.actsInMembers?.(stageConfig) !== false) return statements;
  return statements.filter((st) => ![st.Action].flat().includes('sts:AssumeRole'));
}

/** A function's role: Lambda may assume it, and it holds exactly the function's statements. */
export function functionRole(
  target: StackTarget,
  entry: RegistryEntry,
  stageConfig: StageConfig,
): CfnResource {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: functionRoleName(target.stage, entry.deployment, target.region),
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
      Policies: [
        {
          PolicyName: kebab(entry.name),
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: functionStatements(target.stage, entry, stageConfig),
          },
        },
      ],
    },
  };
}
