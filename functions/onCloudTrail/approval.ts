import type { ApprovalNeed } from '#shared/approval/recheck.ts';
import type { CloudTrailIntent } from './plan.ts';
import type { CloudTrailConfig, DetectionName } from './settings.ts';

/**
 * A remediation of a detection with `approval: 'required'` waits for a person. approveAction checks
 * again, before it runs it, that the record's account and region are its own and the ids still valid;
 * the remediation executor then says `already-remediated` when the opening is gone. The detection's
 * calendars (or its `ignoreChangeFreeze`) are recorded by the pipeline's gate.
 */
export function cloudTrailApproval(
  intent: CloudTrailIntent,
  cfg: CloudTrailConfig,
): ApprovalNeed | undefined {
  if (!('detection' in intent)) return undefined;
  const detection = cfg.cloudTrail.detections[intent.detection as DetectionName];
  if (detection?.approval !== 'required') return undefined;
  return { rule: intent.detection, recheck: { remediation: true } };
}
