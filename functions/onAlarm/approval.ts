import type { ApprovalNeed } from '#shared/approval/recheck.ts';
import type { AlarmIntent } from './plan.ts';
import { runbookTarget } from './rules.ts';
import type { AlarmConfig } from './settings.ts';

/**
 * A runbook start of a rule with `approval: 'required'` waits for a person. approveAction checks again,
 * before it starts it, that the alarm has not returned to OK and that the target is still in the rule's
 * scope; the start itself meets its limit (the runbook limits travel with it) and the rate guard.
 */
export function alarmApproval(intent: AlarmIntent, cfg: AlarmConfig): ApprovalNeed | undefined {
  if (intent.kind !== 'ssm.start-automation') return undefined;
  const runbook = cfg.alarmRules.find((r) => r.name === intent.rule && r.approval === 'required')?.runbook;
  if (!runbook) return undefined;
  const ref = runbookTarget(runbook, intent.parameters);
  const instance =
    ref.kind === 'instance' && runbook.scope !== 'none'
      ? { instanceId: ref.instanceId, tag: runbook.scope.tag, ignoreManagedBy: runbook.scope.ignoreManagedBy }
      : undefined;
  return {
    rule: intent.rule,
    settings: { runbooks: cfg.runbooks },
    recheck: { alarmOpen: true, ...(instance ? { instance } : {}) },
  };
}
