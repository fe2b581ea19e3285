import { describe, expect, it } from 'vitest';
import { OPTED_IN, pages, planFor, restartRule, runbooks, targetWith, WEB } from '../support/alarmPlan.ts';
import { makeConfig } from '../support/config.ts';

describe('planAlarm: runbook scope', () => {
  it('refuses a target without the opt-in tag, pages anyway and says why', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(WEB, config, {}, targetWith({ Name: 'web-1' }));
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes).toContainEqual(
      expect.objectContaining({
        reason: 'out-of-scope',
        detail: expect.stringContaining('ops:auto-remediate=true'),
      }),
    );
    expect(pages(plan.intents)[0]?.content.reason).toContain(
      'instance i-0abc1234def567890 is not tagged ops:auto-remediate=true (it has no such tag)',
    );
  });

  it('refuses a target whose opt-in tag has another value', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(WEB, config, {}, targetWith({ 'ops:auto-remediate': 'TRUE' }));
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes[0]?.detail).toContain('it has ops:auto-remediate=TRUE');
  });

  it("uses the rule's own opt-in tag instead of the default", () => {
    // Arrange
    const rule = {
      ...restartRule,
      runbook: { ...restartRule.runbook, scope: { tag: { key: 'team', value: 'web' } } },
    };
    const config = makeConfig({ dryRun: false, alarmRules: [rule] });
    // Act
    const inScope = planFor(WEB, config, {}, targetWith({ team: 'web' }));
    const defaultTagOnly = planFor(WEB, config, {}, targetWith(OPTED_IN));
    // Assert
    expect(runbooks(inScope.intents)).toHaveLength(1);
    expect(runbooks(defaultTagOnly.intents)).toHaveLength(0);
  });

  it.each([
    ['aws:autoscaling:groupName', 'web-asg', 'Auto Scaling'],
    ['eks:nodegroup-name', 'workers', 'EKS'],
    ['AmazonECSManaged', '', 'ECS'],
    ['karpenter.sh/nodepool', 'default', 'Karpenter'],
    ['aws:elasticmapreduce:job-flow-id', 'j-1', 'EMR'],
    ['aws:batch:compute-environment', 'ce', 'AWS Batch'],
  ])('refuses an opted-in instance managed by another service (%s)', (key, value, owner) => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    // Act
    const plan = planFor(WEB, config, {}, targetWith({ ...OPTED_IN, [key]: value }));
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(plan.notes[0]).toMatchObject({ reason: 'out-of-scope' });
    expect(pages(plan.intents)[0]?.content.reason).toContain(`is managed by ${owner} (tag ${key}=${value})`);
  });

  it('acts on a managed instance when the rule opts out of the managed-by exclusions', () => {
    // Arrange
    const rule = { ...restartRule, runbook: { ...restartRule.runbook, scope: { ignoreManagedBy: true } } };
    const config = makeConfig({ dryRun: false, alarmRules: [rule] });
    // Act
    const plan = planFor(
      WEB,
      config,
      {},
      targetWith({ ...OPTED_IN, 'aws:autoscaling:groupName': 'web-asg' }),
    );
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(1);
  });

  it('refuses when the target could not be read, rather than guess', () => {
    // Arrange
    const config = makeConfig({ dryRun: false, alarmRules: [restartRule] });
    const unreadable = { instanceId: 'i-0abc1234def567890', unavailable: 'UnauthorizedOperation: denied' };
    // Act
    const plan = planFor(WEB, config, {}, { target: unreadable });
    const notGathered = planFor(WEB, config, {}, { target: undefined });
    // Assert
    expect(runbooks(plan.intents)).toHaveLength(0);
    expect(pages(plan.intents)[0]?.content.reason).toContain(
      'could not be read (UnauthorizedOperation: denied)',
    );
    expect(runbooks(notGathered.intents)).toHaveLength(0);
    expect(notGathered.notes[0]).toMatchObject({ reason: 'out-of-scope' });
  });

  it("refuses a runbook whose target is not an EC2 instance unless the rule says scope: 'none'", () => {
    // Arrange
    const bucketRule = (scope?: 'none') => ({
      name: 'lock-bucket',
      match: { alarmName: 'web-*' },
      runbook: {
        document: 'AWS-DisableS3BucketPublicReadWrite',
        parameters: { S3BucketName: { fromTag: 'bucket', format: 's3-bucket-name' as const } },
        ...(scope ? { scope } : {}),
      },
    });
    const tags = { bucket: 'my-bucket' };
    // Act
    const scoped = planFor(WEB, makeConfig({ dryRun: false, alarmRules: [bucketRule()] }), tags);
    const unscoped = planFor(WEB, makeConfig({ dryRun: false, alarmRules: [bucketRule('none')] }), tags);
    // Assert
    expect(runbooks(scoped.intents)).toHaveLength(0);
    expect(scoped.notes[0]?.detail).toMatch(/target is not an EC2 instance/);
    expect(runbooks(unscoped.intents)[0]?.parameters).toEqual({ S3BucketName: ['my-bucket'] });
  });

  it('checks the instance the rule names as its target', () => {
    // Arrange
    const rule = {
      name: 'restart-peer',
      match: { alarmName: 'web-*' },
      runbook: {
        document: 'Restart-Peer',
        parameters: {
          Source: { fromDimension: 'InstanceId', format: 'ec2-instance-id' as const },
          Peer: { fromTag: 'peer', format: 'ec2-instance-id' as const },
        },
        target: { parameter: 'Peer' },
      },
    };
    const config = makeConfig({ dryRun: false, alarmRules: [rule] });
    const peer = { instanceId: 'i-0fedcba9876543210', tags: OPTED_IN };
    // Act
    const onPeer = planFor(WEB, config, { peer: peer.instanceId }, { target: peer });
    const onSource = planFor(WEB, config, { peer: peer.instanceId });
    // Assert
    expect(runbooks(onPeer.intents)).toHaveLength(1);
    expect(runbooks(onSource.intents)).toHaveLength(0);
  });
});
