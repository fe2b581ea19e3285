import { describe, expect, it } from 'vitest';
import { parseStageConfig, type StageConfigInput } from '#config/stageConfig.ts';
import { TRUSTS_NO_ONE } from '#functions/onCloudTrail/detections/declaration.ts';
import { eventPatterns } from '#functions/onCloudTrail/detections/pattern.ts';
import { DETECTIONS, detect, EVENT_PATTERNS } from '#functions/onCloudTrail/detections.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { DETECTION_NAMES } from '#functions/onCloudTrail/settings.ts';
import { compileSigmaRule } from '#functions/onCloudTrail/sigma/compile.ts';
import { SIGMA_RULES, sigmaDecision, sigmaDetection } from '#functions/onCloudTrail/sigma/detection.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { loadFixture } from '../../tools/local/events.ts';
import { makeConfig } from '../support/config.ts';
import { cloudTrailRecord } from '../support/events/index.ts';

/** The Sigma rule shipped in detections/ on its fixtures (events/onCloudTrail/sigma/, provenance in its README). */

const SITE = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
const RDS_PASSWORD = '8b1d4e7a-2c95-4f30-a6e2-7d9c0b1a2e3f';

const event = (fixture: string) => CloudTrailEvent.parse(loadFixture(`onCloudTrail/sigma/${fixture}`));

function planFor(fixture: string, cloudTrail: StageConfigInput['cloudTrail'] = {}) {
  const config = makeConfig({ dryRun: false, cloudTrail });
  const observation = observeCloudTrail(event(fixture), { config, site: SITE });
  return { observation, plan: planCloudTrail({ ...observation, gathered: {}, config }) };
}

/** The shipped rule at another level, to see what each level does. */
function atLevel(level: string) {
  const rule = SIGMA_RULES.find((r) => r.id === RDS_PASSWORD);
  if (!rule) throw new Error('the RDS master password rule is not in detections/');
  return [{ ...rule, level: level as typeof rule.level }];
}

describe('Sigma rules from detections/ in onCloudTrail', () => {
  it('pages a master password change (level high) with the rule title, id, ATT&CK tags and references', () => {
    // Act
    const { observation, plan } = planFor('rds-master-password-modified.json');
    // Assert
    expect(plan.findings).toEqual({ detection: 'sigma-rule', action: 'page' });
    expect(observation.signal.title).toBe('Sigma rule: AWS RDS Master Password Changed');
    expect(observation.signal.severity).toBe('high');
    expect(observation.signal.evidence).toMatchObject({
      detection: 'sigma-rule',
      sigmaRule: RDS_PASSWORD,
      sigmaTitle: 'AWS RDS Master Password Changed',
      sigmaLevel: 'high',
      attackTags: 'attack.persistence, attack.t1098',
      references: 'https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html',
      principal: 'arn:aws:sts::123456789012:assumed-role/Admin/Jack',
    });
    expect(plan.intents.map((i) => i.kind)).toEqual(['sns.page']);
  });

  it('does not match a ModifyDBInstance that sets no master password', () => {
    expect(detect(event('rds-storage-modified.json'), DETECTION_NAMES)).toEqual([]);
  });

  it('does not match a refused master password change: a call that failed changed nothing', () => {
    const raw = cloudTrailRecord('sigma/rds-master-password-modified', { errorCode: 'AccessDenied' });
    const found = detect(CloudTrailEvent.parse(raw), DETECTION_NAMES).map((f) => f.detection);
    expect(found).not.toContain('sigma-rule');
  });

  it.each([
    ['critical', 'page', 'critical'],
    ['high', 'page', 'high'],
    ['medium', 'record', 'warning'],
    ['low', 'record', 'info'],
  ])('takes a rule of level %s to action %s at severity %s', (level, action, severity) => {
    const decided = sigmaDecision(
      event('rds-master-password-modified.json'),
      { sigma: {}, detections: {} },
      atLevel(level),
    );
    expect([decided?.action, decided?.severity]).toEqual([action, severity]);
  });

  it('leaves an informational rule off', () => {
    const settings = { sigma: {}, detections: {} };
    expect(
      sigmaDecision(event('rds-master-password-modified.json'), settings, atLevel('informational')),
    ).toBeUndefined();
  });

  it("follows a stage's per-rule override: record instead of page, or off", () => {
    const recorded = planFor('rds-master-password-modified.json', { sigma: { [RDS_PASSWORD]: 'record' } });
    const off = planFor('rds-master-password-modified.json', { sigma: { [RDS_PASSWORD]: 'off' } });
    expect(recorded.plan.findings).toEqual({ detection: 'sigma-rule', action: 'record' });
    expect(recorded.plan.notes[0]?.detail).toContain('AWS RDS Master Password Changed');
    expect(off.plan.findings).toEqual({ action: 'none' });
    expect(off.observation.facts.alsoMatched).toEqual(['sigma-rule']);
  });

  it('turns every Sigma rule off with the sigma-rule detection off', () => {
    const { plan } = planFor('rds-master-password-modified.json', {
      detections: { 'sigma-rule': { action: 'off' } },
    });
    expect(plan.findings).toEqual({ action: 'none' });
  });

  it('refuses a stage override naming a rule id detections/ does not hold', () => {
    const unknown = () =>
      parseStageConfig('t', { dryRun: true, cloudTrail: { sigma: { 'no-such-rule': 'page' } } });
    expect(unknown).toThrow(/no Sigma rule in detections\/ has id "no-such-rule"/);
  });

  it('compiles a rule dropped into detections/ that the function then pages', () => {
    // The same path as `sls package`: YAML compiled, then evaluated on the record.
    const text = `title: Storage grown by Jack
id: 11111111-2222-4333-8444-555555555555
level: critical
tags: [attack.impact]
logsource: { product: aws, service: cloudtrail }
detection:
  selection:
    eventName: ModifyDBInstance
    userIdentity.arn|endswith: /Jack
    requestParameters.allocatedStorage|exists: true
  condition: selection`;
    const { rule } = compileSigmaRule(text, 'detections/grown.yml');
    if (!rule) throw new Error('did not compile');
    const decided = sigmaDecision(event('rds-storage-modified.json'), { sigma: {}, detections: {} }, [rule]);
    expect(decided?.found.what).toBe('Sigma rule: Storage grown by Jack');
    expect(decided?.action).toBe('page');
  });

  it('routes a rule dropped into detections/ for a call no built-in detection watches, and pages its record with its title', () => {
    // Arrange: SigmaHQ-style rule on an ElastiCache call the catalogue does not otherwise read.
    const text = `title: ElastiCache security group created
id: 33333333-4444-4555-8666-777777777777
level: high
logsource: { product: aws, service: cloudtrail }
detection:
  selection:
    eventSource: elasticache.amazonaws.com
    eventName: CreateCacheSecurityGroup
  condition: selection`;
    const { rule } = compileSigmaRule(text, 'detections/elasticache.yml');
    if (!rule) throw new Error('did not compile');
    const withRule = DETECTIONS.map((d) => (d.name === 'sigma-rule' ? sigmaDetection([rule]) : d));
    const names = (patterns: readonly unknown[]) => JSON.stringify(patterns);
    const record = CloudTrailEvent.parse(
      cloudTrailRecord('security-group-open-world', {
        source: 'aws.elasticache',
        eventSource: 'elasticache.amazonaws.com',
        eventName: 'CreateCacheSecurityGroup',
        requestParameters: { cacheSecurityGroupName: 'open-cache' },
      }),
    );
    // Act
    const patterns = eventPatterns(withRule);
    const found = withRule.find((d) => d.name === 'sigma-rule')?.match(record, TRUSTS_NO_ONE);
    // Assert: only the dropped rule brings the call into the rules' patterns, and its record pages.
    expect(names(EVENT_PATTERNS)).not.toContain('"CreateCacheSecurityGroup"');
    expect(names(patterns)).toContain('"CreateCacheSecurityGroup"');
    expect(detect(record, DETECTION_NAMES)).toEqual([]);
    expect(found?.what).toBe('Sigma rule: ElastiCache security group created');
    expect(sigmaDecision(record, { sigma: {}, detections: {} }, [rule])?.action).toBe('page');
  });
});
