import { memberTargetOf } from '#shared/approval/memberAccount.ts';
import type { SharedConfig } from '#shared/config.ts';
import type { ApprovalDecisionIntent } from '#shared/domain/intent.ts';
import { skipped } from '#shared/domain/outcome.ts';
import type { Signal } from '#shared/domain/signal.ts';
import { approvalDecisionExecutor } from '#shared/executors/approval.ts';
import type { NotifyingExecutor } from '#shared/executors/types.ts';
import { memberRoleArn, memberRunbookRoleName } from '#shared/organization/names.ts';
import { actInTarget } from '#shared/organization/target.ts';

/**
 * The decision, run in the account its record names. The central account's own actions run in place,
 * as always. A member account's run inside that account's member target (shared/organization/target.ts):
 * its acting clients (EC2, S3, Backup, SSM Automation, ...) go there with the member role's credentials,
 * its rate-guard window and its share of the stop budget are the member's, and a runbook starts as the
 * member's runbook role, as the owner's own run would. The plan allowed the account (served, listed,
 * not off: shared/approval/memberAccount.ts); the stage and region are checked again here, so an
 * intent that did not come from that plan still cannot leave the organization's regions. The decision
 * record and the pages stay central: they are no acting clients.
 */
export const decisionInRecordedAccount: NotifyingExecutor<ApprovalDecisionIntent, SharedConfig> = {
  ...approvalDecisionExecutor,
  async execute(intent, ctx) {
    const recorded = JSON.parse(intent.action.signal) as Signal;
    const { account, region } = recorded;
    if (intent.decision === 'reject' || account === ctx.signal.account) {
      return approvalDecisionExecutor.execute(intent, ctx);
    }
    const { organization, stage } = ctx.config;
    if (organization === undefined || !organization.regions.includes(region)) {
      return skipped(
        intent.kind,
        'out-of-scope',
        `${intent.approvalId} was recorded for account ${account} region ${region}, where stage ${stage} does not act: nothing done`,
      );
    }
    const target = memberTargetOf({ account, region }, stage, ctx.config.functionName);
    const automationRoleArn = memberRoleArn(account, region, memberRunbookRoleName(stage));
    const outcome = await actInTarget(target, () =>
      approvalDecisionExecutor.execute(intent, { ...ctx, config: { ...ctx.config, automationRoleArn } }),
    );
    // The action log keeps each outcome: which account it acted in, and as which session.
    return {
      ...outcome,
      detail: `${outcome.detail} (in account ${account} ${region}, as ${target.session})`,
      refs: { ...outcome.refs, account, ...(target.session ? { memberSession: target.session } : {}) },
    };
  },
};
