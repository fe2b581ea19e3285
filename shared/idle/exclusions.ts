// Which instances stopIdleInstances must never stop, whatever their metrics say: pure judgement over the
// instance's own facts (state, tags, lifecycle, root device, stop protection). What stopping does to an
// instance: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Stop_Start.html

import { findManagedBy } from '#shared/domain/managedBy.ts';

export type Scope = 'opt-in' | 'opt-out';

export interface InstanceFacts {
  instanceId: string;
  instanceType: string;
  /** EC2 state name: 'running', 'stopped', ... */
  state: string;
  tags: Record<string, string>;
  /** DescribeInstances InstanceLifecycle: 'spot' | 'scheduled' | 'capacity-block' | undefined (on-demand) */
  lifecycle?: string;
  /** 'ebs' | 'instance-store' */
  rootDeviceType: string;
  /** DisableApiStop, when known */
  stopProtection?: boolean;
  /** ISO 8601 */
  launchTime?: string;
}

export type Exclusion =
  | 'not-running'
  | 'auto-scaling-member'
  | 'eks-managed'
  | 'ecs-managed'
  | 'karpenter-managed'
  | 'emr-managed'
  | 'batch-managed'
  | 'spot'
  | 'instance-store-root'
  | 'stop-protection'
  | 'opted-out'
  | 'not-opted-in';

export const AUTO_STOP_TAG = 'ops:auto-stop';

type ScopeIntent = 'in' | 'out' | 'none';

function readScopeTag(tags: Record<string, string>): ScopeIntent {
  const value = tags[AUTO_STOP_TAG];
  if (value === undefined) return 'none';
  // Opting out is honoured in any spelling (the safe direction). Opting in needs exactly 'true' because the
  // IAM tag condition on StopInstances compares the value case-sensitively.
  if (value.trim().toLowerCase() === 'false') return 'out';
  return value === 'true' ? 'in' : 'none';
}

/** Why an instance must not be stopped, or undefined when it is a candidate for the idle check. */
export function screenInstance(i: InstanceFacts, scope: Scope): Exclusion | undefined {
  if (i.state !== 'running') return 'not-running';
  const managed = findManagedBy(i.tags);
  if (managed) return managed.rule.exclusion;
  // One-time Spot requests cannot be stopped, and a stopped persistent one may not get its capacity back.
  if (i.lifecycle === 'spot') return 'spot';
  // Stopping loses instance-store data, and an instance-store root cannot be stopped at all.
  if (i.rootDeviceType === 'instance-store') return 'instance-store-root';
  if (i.stopProtection === true) return 'stop-protection';
  const intent = readScopeTag(i.tags);
  if (intent === 'out') return 'opted-out';
  if (scope === 'opt-in' && intent !== 'in') return 'not-opted-in';
  return undefined;
}

/** The sentence a person reads for an excluded instance. */
export function exclusionReason(i: InstanceFacts, exclusion: Exclusion, scope: Scope): string {
  switch (exclusion) {
    case 'not-running':
      return `Not running (state ${i.state}); only running instances are stopped.`;
    case 'spot':
      return 'Spot instance; stopping it can fail or lose the capacity, so it is never stopped.';
    case 'instance-store-root':
      return 'Root device is instance store; it cannot be stopped without losing its data.';
    case 'stop-protection':
      return 'Stop protection (DisableApiStop) is on; its owner asked for it never to be stopped.';
    case 'opted-out':
      return `Tagged ${AUTO_STOP_TAG}=${i.tags[AUTO_STOP_TAG] ?? 'false'}; opted out for good.`;
    case 'not-opted-in':
      return `Scope is ${scope} and the instance is not tagged ${AUTO_STOP_TAG}=true.`;
    default: {
      const managed = findManagedBy(i.tags);
      const tag = managed ? ` (tag ${managed.tagKey}=${managed.tagValue})` : '';
      const owner = managed?.rule.owner ?? 'another service';
      return `Managed by ${owner}${tag}; that service owns its lifecycle and would replace a stopped instance.`;
    }
  }
}
