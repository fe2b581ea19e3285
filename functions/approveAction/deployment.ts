import type { StageConfig } from '#config/stageConfig.ts';
import type { FunctionDeployment, IamStatement } from '#functions/index.ts';
import { APPROVABLE_KINDS } from '#shared/approval/approvableKinds.ts';
import type { ActingFor } from '#shared/runtime/statements.ts';
import type { SharedStateGrant } from '#shared/state/sharedRecords.ts';

const pascal = (name: string) => name.replace(/^[a-z]/, (c) => c.toUpperCase());

/** A function whose actions may wait for approval, as the registry names it. */
export type Owners = Readonly<Record<string, FunctionDeployment>>;

/**
 * The functions that may record a pending action on a stage (their deployment writes the shared
 * `approval` record there: a rule or detection of theirs asks for approval), with the approvable
 * executor kinds they run there.
 */
export function approvalOwnersOn(
  owners: Owners,
  stage: StageConfig,
): { name: string; deployment: FunctionDeployment; kinds: string[] }[] {
  return Object.entries(owners).flatMap(([name, deployment]) => {
    const records = deployment.sharedStateRecords?.(stage) ?? [];
    if (!records.some((r) => r.kind === 'approval')) return [];
    const kinds = APPROVABLE_KINDS.filter((kind) => {
      const grant = deployment.executors[kind];
      return grant !== undefined && grant.statements(stage) !== 'off';
    });
    return kinds.length > 0 ? [{ name, deployment, kinds }] : [];
  });
}

/**
 * What approveAction's role grants to run an approved action: exactly the statements the owning
 * function's role grants the executors of its approvable kinds (Sids prefixed with the owner's name, so
 * two owners of one kind stay apart), on the stages where the owner may ask for approval; none elsewhere.
 */
function approvedActionStatements(owners: Owners, stage: StageConfig): IamStatement[] {
  return approvalOwnersOn(owners, stage).flatMap(({ name, deployment, kinds }) =>
    kinds.flatMap((kind) => {
      const statements = deployment.executors[kind]?.statements(stage);
      return statements === undefined || statements === 'off'
        ? []
        : statements.map((st) => ({ ...st, Sid: `${pascal(name)}${st.Sid}` }));
    }),
  );
}

/** One grant per shared record: two owners of one record (the idle stoppers' stop budget) share it. */
function mergedByKind(grants: SharedStateGrant[]): SharedStateGrant[] {
  const byKind = new Map<SharedStateGrant['kind'], Set<string>>();
  for (const { kind, actions } of grants)
    byKind.set(kind, new Set([...(byKind.get(kind) ?? []), ...actions]));
  return [...byKind].map(([kind, actions]) => ({ kind, actions: [...actions] }));
}

/**
 * approveAction's deployment, from the functions whose actions may wait for approval (the registry
 * passes them: a function imports no other function's folder). No event rule: a person invokes it.
 */
export function approverDeployment(owners: Owners): FunctionDeployment {
  const environment = Object.assign({}, ...Object.values(owners).map((d) => d.environment ?? {}));
  return {
    description: 'A person approves or rejects an action that waits for approval (sls invoke, or chat)',
    // The decision, the re-checks and the owner's executor (a runbook start: ~1 s; SSM retries throttles).
    timeout: 30,
    // A few people deciding at once; a second approval of one id is refused by the conditional write.
    reservedConcurrency: 2,
    // Invoked synchronously (sls invoke, the chat custom action's lambda invoke): the person sees the
    // error and decides again; Lambda's asynchronous retries would only re-run a refused decision.
    maximumRetryAttempts: 0,
    maximumEventAge: 60,
    roleName: 'approve-action',
    trigger: {
      manual:
        'invoked by hand: `sls invoke -f approveAction` with the command a page gives, or the chat custom action (docs/APPROVALS.md)',
    },
    monitoring: {
      period: 300,
      // A refusal is an answer, not an error: errors (no decision could be recorded) page when they repeat.
      errors: { evaluationPeriods: 3, datapointsToAlarm: 2 },
      widgets: [{ title: 'Approvals', metrics: ['ApprovalsDecided', 'PagesSent', 'ActionsFailed'] }],
    },
    sampleFixture: 'approveAction/approve.json',
    // What the owner's executor reads from its environment (onAlarm's automation role).
    ...(Object.keys(environment).length > 0 ? { environment } : {}),
    // It decides the pending record, and the owner's executor touches the owner's shared records.
    sharedStateRecords: (stage) =>
      mergedByKind([
        { kind: 'approval', actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'] },
        ...approvalOwnersOn(owners, stage).flatMap(({ deployment }) =>
          (deployment.sharedStateRecords?.(stage) ?? []).filter((r) => r.kind !== 'approval'),
        ),
      ]),
    // The approved action runs as its owner: its claims, incident and rate-guard records are the owner's.
    actsFor: (stage): ActingFor[] =>
      approvalOwnersOn(owners, stage).map(({ name, deployment }) => ({
        functionName: name,
        stateTableActions: deployment.stateTableActions ?? [],
      })),
    // On an organization's stage it assumes the member role only to act for an owner that asks for
    // approval (an approved action recorded in a member account runs there).
    actsInMembers: (stage) => approvalOwnersOn(owners, stage).length > 0,
    // The calendars its owners' actions are checked against (the stage's and their rules'), read again.
    changeCalendars: (stage) => [
      ...new Set(
        approvalOwnersOn(owners, stage).flatMap(
          ({ deployment }) => deployment.changeCalendars?.(stage) ?? [],
        ),
      ),
    ],
    // What the re-checks read again before an approved action: the runbook target's tags, a backup
    // retry's failed job, an idle stop list's instances. None of the three has resource-level permissions.
    readStatements: (): IamStatement[] => [
      { Sid: 'ReadActionTargets', Effect: 'Allow', Action: 'tag:GetResources', Resource: '*' },
      { Sid: 'ReadBackupJobs', Effect: 'Allow', Action: 'backup:DescribeBackupJob', Resource: '*' },
      { Sid: 'ReadStopListInstances', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
    ],
    executors: {
      'approval.decide': { statements: (stage) => approvedActionStatements(owners, stage) },
      // The page topic and key are the runtime's.
      'sns.page': { statements: () => [] },
    },
  };
}
