/**
 * Instances another AWS service owns (Auto Scaling, EKS, ECS, Karpenter, EMR, Batch), recognised by their
 * tags. Neither idle stop nor a runbook may act on them: the owner would replace, drain or fight the change.
 */
export type ManagedBy =
  | 'auto-scaling-member'
  | 'eks-managed'
  | 'ecs-managed'
  | 'karpenter-managed'
  | 'emr-managed'
  | 'batch-managed';

export interface ManagedByRule {
  exclusion: ManagedBy;
  owner: string;
  keys: readonly string[];
  prefixes: readonly string[];
}

// Tag keys that mark an instance as owned by a service that would replace, drain or fight a stop or a
// restart:
// - Auto Scaling: `aws:autoscaling:groupName`, the system tag on every group member.
// - EKS: `eks:cluster-name`, `eks:nodegroup-name`, `eks:eks-cluster-name`, `aws:eks:cluster-name`, and
//   `kubernetes.io/cluster/<name>` (owned|shared) on any Kubernetes node.
// - ECS: `AmazonECSManaged` on capacity-provider instances, `aws:ecs:clusterName`.
// - Karpenter: `karpenter.sh/nodepool`, `karpenter.sh/nodeclaim`, `karpenter.k8s.aws/ec2nodeclass`,
//   `karpenter.sh/provisioner-name` (older releases).
// - EMR: `aws:elasticmapreduce:job-flow-id`, `aws:elasticmapreduce:instance-group-role`.
// - Batch: `aws:batch:compute-environment` (hence the `aws:batch:` prefix).
// AWS documents these in https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-tagging.html,
// https://docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html,
// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/asg-capacity-providers.html,
// https://docs.aws.amazon.com/eks/latest/best-practices/karpenter.html,
// https://docs.aws.amazon.com/emr/latest/ManagementGuide/emr-plan-tags.html and
// https://docs.aws.amazon.com/batch/latest/userguide/compute_environments.html.
// Prefixes catch sibling keys of the same owner; keys compare case-insensitively because missing an owner
// costs an outage while a false match only spares an instance.
// Order: the most specific owner first, so the reason names who would actually replace the instance
// (an EKS node group or ECS capacity provider instance is also an Auto Scaling member).
const MANAGED_BY_RULES: readonly ManagedByRule[] = [
  {
    exclusion: 'karpenter-managed',
    owner: 'Karpenter',
    keys: ['karpenter.sh/nodepool', 'karpenter.sh/nodeclaim', 'karpenter.sh/provisioner-name'],
    prefixes: ['karpenter.sh/', 'karpenter.k8s.aws/'],
  },
  {
    exclusion: 'eks-managed',
    owner: 'EKS',
    keys: ['eks:cluster-name', 'eks:nodegroup-name', 'eks:eks-cluster-name', 'aws:eks:cluster-name'],
    prefixes: ['eks:', 'aws:eks:', 'kubernetes.io/cluster/'],
  },
  {
    exclusion: 'emr-managed',
    owner: 'EMR',
    keys: ['aws:elasticmapreduce:job-flow-id', 'aws:elasticmapreduce:instance-group-role'],
    prefixes: ['aws:elasticmapreduce:'],
  },
  // Batch before ECS: Batch compute environments run ECS container instances.
  {
    exclusion: 'batch-managed',
    owner: 'AWS Batch',
    keys: ['aws:batch:compute-environment'],
    prefixes: ['aws:batch:'],
  },
  {
    exclusion: 'ecs-managed',
    owner: 'ECS',
    keys: ['AmazonECSManaged', 'aws:ecs:clusterName'],
    prefixes: ['aws:ecs:'],
  },
  {
    exclusion: 'auto-scaling-member',
    owner: 'Auto Scaling',
    keys: ['aws:autoscaling:groupName'],
    prefixes: [],
  },
];

export interface ManagedMatch {
  rule: ManagedByRule;
  tagKey: string;
  tagValue: string;
}

export function findManagedBy(tags: Record<string, string>): ManagedMatch | undefined {
  const entries = Object.entries(tags).map(([key, value]) => ({ key, lower: key.toLowerCase(), value }));
  for (const rule of MANAGED_BY_RULES) {
    const keys = rule.keys.map((k) => k.toLowerCase());
    const prefixes = rule.prefixes.map((p) => p.toLowerCase());
    const hit = entries.find((e) => keys.includes(e.lower) || prefixes.some((p) => e.lower.startsWith(p)));
    if (hit) return { rule, tagKey: hit.key, tagValue: hit.value };
  }
  return undefined;
}
