import { describe, expect, it } from 'vitest';
import { type Exclusion, type InstanceFacts, type Scope, screenInstance } from '#shared/idle/exclusions.ts';
import { judgeCpu, judgeNetwork } from '#shared/idle/idleness.ts';
import { hourly, hourlyValues, MB, makeInstance, policy } from '../support/idleVerdict.ts';

describe('screenInstance', () => {
  it.each<[string, Record<string, string>, Exclusion]>([
    ['an Auto Scaling group member', { 'aws:autoscaling:groupName': 'web-asg' }, 'auto-scaling-member'],
    ['an EKS node by eks:cluster-name', { 'eks:cluster-name': 'prod' }, 'eks-managed'],
    ['an EKS managed node group node', { 'eks:nodegroup-name': 'general' }, 'eks-managed'],
    [
      'a Kubernetes node by kubernetes.io/cluster/<name>',
      { 'kubernetes.io/cluster/prod': 'owned' },
      'eks-managed',
    ],
    ['an ECS capacity provider instance', { AmazonECSManaged: 'true' }, 'ecs-managed'],
    ['an ECS container instance by aws:ecs:clusterName', { 'aws:ecs:clusterName': 'api' }, 'ecs-managed'],
    [
      'a Karpenter node by karpenter.sh/nodepool',
      { 'karpenter.sh/nodepool': 'default' },
      'karpenter-managed',
    ],
    [
      'a Karpenter node by karpenter.sh/provisioner-name',
      { 'karpenter.sh/provisioner-name': 'x' },
      'karpenter-managed',
    ],
    [
      'a Karpenter node by its EC2NodeClass',
      { 'karpenter.k8s.aws/ec2nodeclass': 'default' },
      'karpenter-managed',
    ],
    [
      'a Karpenter node by any karpenter.sh/ key',
      { 'karpenter.sh/nodeclaim': 'default-abc12' },
      'karpenter-managed',
    ],
    ['an EMR node by job flow id', { 'aws:elasticmapreduce:job-flow-id': 'j-2AXXXXXXGAPLF' }, 'emr-managed'],
    [
      'an EMR node by instance group role',
      { 'aws:elasticmapreduce:instance-group-role': 'CORE' },
      'emr-managed',
    ],
    ['a Batch compute environment instance', { 'aws:batch:compute-environment': 'nightly' }, 'batch-managed'],
  ])('excludes %s whatever ops:auto-stop says', (_name, managedTags, expected) => {
    // Arrange: opted in explicitly, which must not override the owner
    const instance = makeInstance({ tags: { 'ops:auto-stop': 'true', ...managedTags } });

    // Act + Assert: in both scopes
    expect(screenInstance(instance, 'opt-in')).toBe(expected);
    expect(screenInstance(instance, 'opt-out')).toBe(expected);
  });

  it('names the most specific owner when an instance carries several managed-by tags', () => {
    // Arrange: an EKS managed node group node is also an Auto Scaling member
    const instance = makeInstance({
      tags: { 'aws:autoscaling:groupName': 'eks-general-1a', 'eks:nodegroup-name': 'general' },
    });

    // Act
    const exclusion = screenInstance(instance, 'opt-out');

    // Assert
    expect(exclusion).toBe('eks-managed');
  });

  it('matches managed-by tag keys whatever their case', () => {
    // Arrange
    const instance = makeInstance({ tags: { 'AWS:AutoScaling:GroupName': 'web-asg' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-out')).toBe('auto-scaling-member');
  });

  it.each<[string, Partial<InstanceFacts>, Exclusion]>([
    ['a stopped instance', { state: 'stopped' }, 'not-running'],
    ['a pending instance', { state: 'pending' }, 'not-running'],
    ['a Spot instance', { lifecycle: 'spot' }, 'spot'],
    ['an instance-store root', { rootDeviceType: 'instance-store' }, 'instance-store-root'],
    ['an instance with stop protection', { stopProtection: true }, 'stop-protection'],
  ])('excludes %s even when opted in', (_name, overrides, expected) => {
    // Arrange
    const instance = makeInstance({ tags: { 'ops:auto-stop': 'true' }, ...overrides });

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBe(expected);
    expect(screenInstance(instance, 'opt-out')).toBe(expected);
  });

  it('checks the running state before anything else', () => {
    // Arrange: stopped, and also managed and Spot
    const instance = makeInstance({ state: 'stopped', lifecycle: 'spot', tags: { AmazonECSManaged: '' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-out')).toBe('not-running');
  });

  it.each<Scope>(['opt-in', 'opt-out'])(
    'keeps an instance tagged ops:auto-stop=false out in %s scope',
    (scope) => {
      // Arrange
      const instance = makeInstance({ tags: { 'ops:auto-stop': 'false' } });

      // Act + Assert
      expect(screenInstance(instance, scope)).toBe('opted-out');
    },
  );

  it('honours an opt-out written in another case', () => {
    // Arrange
    const instance = makeInstance({ tags: { 'ops:auto-stop': ' False ' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-out')).toBe('opted-out');
  });

  it('leaves an untagged instance out in opt-in scope', () => {
    // Arrange
    const instance = makeInstance({ tags: { Name: 'build-box' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBe('not-opted-in');
  });

  it('needs exactly ops:auto-stop=true to opt in, as the IAM tag condition does', () => {
    // Arrange
    const instance = makeInstance({ tags: { 'ops:auto-stop': 'TRUE' } });

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBe('not-opted-in');
  });

  it('takes untagged and oddly tagged instances in opt-out scope', () => {
    // Arrange
    const untagged = makeInstance({ tags: {} });
    const odd = makeInstance({ tags: { 'ops:auto-stop': 'maybe' } });

    // Act + Assert
    expect(screenInstance(untagged, 'opt-out')).toBeUndefined();
    expect(screenInstance(odd, 'opt-out')).toBeUndefined();
  });

  it('takes an on-demand EBS-backed instance tagged ops:auto-stop=true in opt-in scope', () => {
    // Arrange
    const instance = makeInstance();

    // Act + Assert
    expect(screenInstance(instance, 'opt-in')).toBeUndefined();
  });
});

describe('judgeCpu', () => {
  it('reports not enough data with 21 of 24 hours measured, however quiet they are', () => {
    // Arrange
    const cpu = hourly(21, 0.5);

    // Act
    const { status, evidence } = judgeCpu(cpu, policy);

    // Assert
    expect(status).toBe('not-enough-data');
    expect(evidence.cpuHoursCovered).toBe(21);
    expect(evidence.cpuCoverage).toBeCloseTo(0.875);
  });

  it('judges an instance with 22 of 24 hours measured', () => {
    // Arrange
    const cpu = hourly(22, 0.5, 2);

    // Act
    const { status, evidence } = judgeCpu(cpu, policy);

    // Assert
    expect(status).toBe('cpu-idle');
    expect(evidence.maxCpuPercent).toBe(0.5);
  });

  it('counts distinct hours, not datapoints', () => {
    // Arrange: 24 datapoints squeezed into 12 hours
    const first = hourly(12, 1);
    const cpu = {
      timestamps: [...first.timestamps, ...first.timestamps],
      values: [...first.values, ...first.values],
    };

    // Act + Assert
    expect(judgeCpu(cpu, policy).status).toBe('not-enough-data');
  });

  it('treats a CPU maximum exactly at the threshold as busy', () => {
    // Arrange: one hour at 5 %, the rest at 1 %
    const cpu = hourlyValues([...Array.from({ length: 23 }, () => 1), 5]);

    // Act + Assert
    expect(judgeCpu(cpu, policy).status).toBe('busy-cpu');
  });

  it('reports busy when a measured hour is busy even if hours are missing', () => {
    // Arrange
    const cpu = hourlyValues([80, 1, 1]);

    // Act + Assert
    expect(judgeCpu(cpu, policy).status).toBe('busy-cpu');
  });

  it('reports not enough data when no datapoint exists', () => {
    // Act
    const { status, evidence } = judgeCpu({ timestamps: [], values: [] }, policy);

    // Assert
    expect(status).toBe('not-enough-data');
    expect(evidence.maxCpuPercent).toBeNull();
  });
});

describe('judgeNetwork', () => {
  it('sums in and out by hour against the threshold', () => {
    // Arrange: 6 MB in + 5 MB out in hour 3 is 11 MB, over 10 MB; each alone is under
    const netIn = hourlyValues(Array.from({ length: 24 }, (_, k) => (k === 3 ? 6 * MB : MB)));
    const netOut = hourlyValues(Array.from({ length: 24 }, (_, k) => (k === 3 ? 5 * MB : MB)));

    // Act
    const { status, evidence } = judgeNetwork(netIn, netOut, policy);

    // Assert
    expect(status).toBe('busy-network');
    expect(evidence.maxNetworkBytesPerHour).toBe(11 * MB);
  });

  it('finds quiet traffic idle', () => {
    // Act
    const { status } = judgeNetwork(hourly(24, MB), hourly(24, MB), policy);

    // Assert
    expect(status).toBe('network-idle');
  });

  it('applies the coverage rule to network too', () => {
    // Arrange: out measured for only 20 hours
    const netIn = hourly(24, MB);
    const netOut = hourly(20, MB);

    // Act
    const { status, evidence } = judgeNetwork(netIn, netOut, policy);

    // Assert
    expect(status).toBe('not-enough-data');
    expect(evidence.networkHoursCovered).toBe(20);
  });
});
