import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { READ_ONLY_RULE_STATE, READ_ONLY_RULE_SUFFIX, readOnlyRule } from '#deploy/stack/readOnlyRule.ts';
import { registry } from '#functions/index.ts';
import { EVENT_PATTERNS, READ_ONLY_CALLS } from '#functions/onCloudTrail/detections.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';

/**
 * The read-only rule (issue 18): off by default; on, a second rule on onCloudTrail in the one state
 * that receives read-only management events, narrow to the calls its detections read.
 */

const TARGET = { stage: 'x', region: 'us-east-1', root: process.cwd() };
const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const fixture = (name: string) => loadFixture<unknown>(`onCloudTrail/readonly/${name}.json`);
const ROLE = 'arn:aws:iam::123456789012:role/stratus-red-team-ec2-get-password-data-role';

function decide(name: string, cloudTrail: Record<string, unknown> = {}) {
  const config = makeConfig({ cloudTrail } as never);
  const observation = observeCloudTrail(CloudTrailEvent.parse(fixture(name)), { config, site: SITE });
  const plan = planCloudTrail({ ...observation, gathered: {}, config });
  return { observation, decision: [plan.findings?.detection ?? null, plan.findings?.action] };
}

describe('the read-only rule in the stack', () => {
  it('adds nothing on a stage that leaves it off (the default)', () => {
    // Arrange
    const stage = parseStageConfig('x', { dryRun: false });
    // Act
    const resources = readOnlyRule(TARGET, registry, stage, 'OnCloudTrailLambdaFunction');
    // Assert
    expect(stage.cloudTrail.readOnlyRule.enabled).toBe(false);
    expect(resources).toEqual({});
  });

  it('adds a rule in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, narrow to the watched read-only calls, with its permission and alarm', () => {
    // Arrange
    const stage = parseStageConfig('x', { dryRun: false, cloudTrail: { readOnlyRule: { enabled: true } } });
    // Act
    const resources = readOnlyRule(TARGET, registry, stage, 'OnCloudTrailLambdaFunction');
    // Assert
    const rule = resources.OnCloudTrailReadOnlyRule;
    expect(rule?.Properties.State).toBe(READ_ONLY_RULE_STATE);
    expect(rule?.Properties.Name).toBe(`ops-autopilot-x-${READ_ONLY_RULE_SUFFIX}`);
    const detail =
      (rule?.Properties.EventPattern as { detail: Record<string, unknown> } | undefined)?.detail ?? {};
    expect(detail.errorCode).toEqual([{ exists: false }]);
    expect(detail.$or).toEqual([
      { eventName: ['GetCallerIdentity'], userAgent: [{ wildcard: '*TruffleHog*' }] },
      { eventName: ['BatchGetSecretValue', 'GetPasswordData', 'GetSecretValue'] },
    ]);
    expect(resources.OnCloudTrailReadOnlyRuleInvokePermission?.Properties.SourceArn).toEqual({
      'Fn::GetAtt': ['OnCloudTrailReadOnlyRule', 'Arn'],
    });
    expect(Object.keys(resources)).toContain('OnCloudtrailReadOnlyRuleFailedInvocationsAlarm');
  });

  it('keeps the read-only calls out of the main rules, which never receive them', () => {
    // Act
    const main = JSON.stringify(EVENT_PATTERNS);
    // Assert
    expect(READ_ONLY_CALLS).toEqual([
      'BatchGetSecretValue',
      'GetCallerIdentity',
      'GetPasswordData',
      'GetSecretValue',
    ]);
    for (const call of READ_ONLY_CALLS) expect(main).not.toContain(`"${call}"`);
  });

  it('refuses a scanner user agent that would widen the wildcard, naming the field', () => {
    // Act
    const act = () =>
      parseStageConfig('x', {
        dryRun: false,
        cloudTrail: { readOnlyRule: { enabled: true, scannerUserAgents: ['*'] } },
      });
    // Assert
    expect(act).toThrow('cloudTrail.readOnlyRule.scannerUserAgents.0');
  });
});

describe('the read-only detections', () => {
  it.each([
    ['sts-get-caller-identity-trufflehog', 'secret-scanner-key-check'],
    ['ec2-get-password-data', 'ec2-password-data-read'],
    ['secretsmanager-get-secret-value', 'secret-read-by-unusual-principal'],
    ['secretsmanager-batch-get-secret-value', 'secret-read-by-unusual-principal'],
  ])('%s pages as %s', (name, detection) => {
    // Act
    const { decision } = decide(name);
    // Assert
    expect(decision).toEqual([detection, 'page']);
  });

  it('does not page GetCallerIdentity from the AWS CLI', () => {
    // Act
    const { decision } = decide('sts-get-caller-identity-cli');
    // Assert
    expect(decision).toEqual([null, 'none']);
  });

  it('does not page a secret read by a role on cloudTrail.secretReaders, and names the secret otherwise', () => {
    // Act
    const listed = decide('secretsmanager-get-secret-value', { secretReaders: [ROLE] });
    const unlisted = decide('secretsmanager-get-secret-value');
    // Assert
    expect(listed.decision).toEqual([null, 'none']);
    expect(unlisted.observation.facts.decided?.finding.what).toBe(
      `secret prod/db/password read by ${ROLE}, not a listed secret reader`,
    );
  });
});
