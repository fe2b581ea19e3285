import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from '../../tools/local/packaged.ts';
import { copyOfRepository, editStages, sls } from '../support/deployRehearsal.ts';
import { packagedOnce } from '../support/packagedOnce.ts';

/**
 * `sls package` and the read-only rule (issue 18): off by default, so dev's template holds no rule in
 * the state that receives read-only management events; a stage that turns `cloudTrail.readOnlyRule`
 * on gets exactly one, narrow, on onCloudTrail, and cfn-lint accepts its state.
 */

const run = promisify(execFile);
const STATE = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
const rulesIn = (template: Template) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Events::Rule');

describe('the read-only rule, packaged', () => {
  it('is not in the template of a stage that leaves it off (dev, the default)', async () => {
    // Act
    const { template } = await packagedOnce('dev');
    // Assert
    expect(rulesIn(template).length).toBeGreaterThan(0);
    expect(rulesIn(template).filter(([, r]) => r.Properties.State === STATE)).toEqual([]);
    expect(template.Resources.OnCloudTrailReadOnlyRule).toBeUndefined();
  }, 300_000);

  describe('on a stage that turns it on', () => {
    let copy: string;
    let template: Template;

    beforeAll(async () => {
      copy = copyOfRepository();
      editStages(copy, (source) =>
        source.replace(
          "    cloudTrail: {\n      detections: {\n        'security-group-open-to-world'",
          "    cloudTrail: {\n      readOnlyRule: { enabled: true },\n      detections: {\n        'security-group-open-to-world'",
        ),
      );
      const packaged = await sls(copy, ['package', '--stage', 'dev', '--package', join(copy, '.serverless')]);
      if (packaged.code !== 0) throw new Error(packaged.out);
      template = JSON.parse(
        readFileSync(join(copy, '.serverless', 'cloudformation-template-update-stack.json'), 'utf8'),
      ) as Template;
    }, 300_000);

    it('holds one rule in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS, narrow to the read-only calls, targeting onCloudTrail', () => {
      // Act
      const readOnly = rulesIn(template).filter(([, r]) => r.Properties.State === STATE);
      // Assert
      expect(readOnly.map(([id]) => id)).toEqual(['OnCloudTrailReadOnlyRule']);
      const rule = readOnly[0]?.[1];
      expect(rule?.Properties.Name).toBe('ops-autopilot-dev-on-cloudtrail-read-only');
      const pattern = rule?.Properties.EventPattern as {
        'detail-type': string[];
        detail: { $or: { eventName: string[] }[] };
      };
      expect(pattern['detail-type']).toEqual(['AWS API Call via CloudTrail']);
      expect(pattern.detail.$or.flatMap((b) => b.eventName).sort()).toEqual([
        'BatchGetSecretValue',
        'GetCallerIdentity',
        'GetPasswordData',
        'GetSecretValue',
      ]);
      const targets = rule?.Properties.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[];
      const lambda = template.Resources[targets[0]?.Arn['Fn::GetAtt'][0] ?? ''];
      expect(lambda?.Properties.FunctionName).toBe('ops-autopilot-dev-onCloudTrail');
      expect(template.Resources.OnCloudTrailReadOnlyRuleInvokePermission?.Type).toBe(
        'AWS::Lambda::Permission',
      );
    });

    it('passes cfn-lint, state included', async () => {
      // Act
      const lint = await run(
        'cfn-lint',
        [join(copy, '.serverless', 'cloudformation-template-update-stack.json')],
        {
          env: { ...process.env, PATH: `${process.env.HOME}/.pyenv/shims:${process.env.PATH}` },
        },
      ).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code?: number | string; stdout?: string; stderr?: string }) => ({
          code: e.code,
          out: `${e.stdout}${e.stderr}`,
        }),
      );
      // Assert
      expect(lint.out).toBe('');
      expect(lint.code).toBe(0);
    }, 120_000);
  });
});
