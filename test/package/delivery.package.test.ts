/** The packaged template's delivery and safety: lint, rules within limits, retries, queues, concurrency, encryption, a stage without configuration. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { RESERVED_CONCURRENCY_CAP, registry } from '#functions/index.ts';
import { ROOT, SLS, withSlsPath } from '../../tools/local/packaged.ts';
import { type PackagedRun, packagedOnce } from '../support/packagedOnce.ts';

const run = promisify(execFile);

let packaged: PackagedRun;

beforeAll(async () => {
  packaged = await packagedOnce('dev');
}, 300_000);

describe('the packaged template', () => {
  it('passes cfn-lint with no findings', async () => {
    // Act
    const result = await run('cfn-lint', [packaged.templatePath]).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code?: number | string; stdout?: string; stderr?: string }) => ({
        code: e.code,
        out: `${e.stdout}${e.stderr}`,
      }),
    );
    // Assert
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });

  it("keeps every rule's event pattern within EventBridge's default 2,048 characters", () => {
    // Arrange
    const rules = Object.values(packaged.template.Resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern !== undefined,
    );
    // Assert
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const rule of rules) {
      const size = JSON.stringify(rule.Properties.EventPattern).length;
      expect(size, String(rule.Properties.Name)).toBeLessThanOrEqual(2048);
    }
  });

  it('gives every EventBridge target a retry policy and the dead-letter queue', () => {
    // Arrange
    const rules = Object.values(packaged.template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    // Assert
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      for (const target of rule.Properties.Targets as Record<string, unknown>[]) {
        expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
        expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
      }
    }
  });

  it("sends every function's failed asynchronous invocations to the failure queue", () => {
    // Arrange
    const resources = packaged.template.Resources;
    const functions = Object.keys(resources).filter((id) => resources[id]?.Type === 'AWS::Lambda::Function');
    const configs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    // Assert
    for (const fn of functions) {
      const config = configs.find((c) => (c.Properties.FunctionName as { Ref: string }).Ref === fn);
      expect(config?.Properties.DestinationConfig).toEqual({
        OnFailure: { Destination: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] } },
      });
    }
  });

  it('reserves concurrency for every function, within the documented cap, leaving the account its unreserved pool', () => {
    // Arrange
    const lambdas = Object.values(packaged.template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    // Act
    const reserved = lambdas.map((r) => r.Properties.ReservedConcurrentExecutions);
    const total = reserved.reduce((sum: number, n) => sum + Number(n), 0);
    // Assert
    expect(lambdas).toHaveLength(registry.length);
    for (const n of reserved) {
      expect(Number.isInteger(n)).toBe(true);
      expect(n).toBeGreaterThanOrEqual(1);
    }
    expect(total).toBeLessThanOrEqual(RESERVED_CONCURRENCY_CAP);
    // Lambda keeps at least 100 of the default 1,000 unreserved.
    expect(1000 - RESERVED_CONCURRENCY_CAP).toBeGreaterThanOrEqual(100);
  });

  it('encrypts the paging topic with a KMS key and expires state-table items by TTL', () => {
    // Arrange
    const { PageTopic, StateTable } = packaged.template.Resources;
    // Assert
    expect(PageTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'PageKey' });
    expect(StateTable?.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(StateTable?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiration',
      Enabled: true,
    });
  });

  it('refuses to package a stage with no configuration, naming it', async () => {
    // Act
    const error = await run(SLS, ['package', '--stage', 'nosuchstage', '--package', `${packaged.dir}-bad`], {
      cwd: ROOT,
      env: withSlsPath(process.env),
    }).then(
      () => undefined,
      (e: { stdout?: string; stderr?: string }) => `${e.stdout}${e.stderr}`,
    );
    // Assert
    expect(error).toMatch(/no stage "nosuchstage"/);
  }, 120_000);
});
