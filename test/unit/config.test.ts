import { describe, expect, it, vi } from 'vitest';
import { functionSettings, parseStageConfig, validateAllStages } from '#config/stageConfig.ts';
import { registry } from '#functions/index.ts';
import { ConfigError, loadConfig, tracingEnabled } from '#shared/config.ts';
import type { AnyFunctionSpec } from '#shared/runtime/functionSpec.ts';

describe('stage configuration', () => {
  it('validates every stage in config/stages.ts', () => {
    expect(validateAllStages()).toEqual(expect.arrayContaining(['dev', 'prod']));
  });

  it('names the field of an invalid rule', () => {
    // Arrange
    const bad = {
      dryRun: false,
      alarmRules: [{ name: 'x', match: { alarmName: 'a' }, runbook: { document: 'bad doc name!' } }],
    };
    // Act
    const act = () => parseStageConfig('broken', bad);
    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(
      /stage "broken": alarmRules\.0\.runbook\.document \(alarm rule "x"\): not an SSM document name or ARN \(got "bad doc name!"\)/,
    );
  });

  it('names a mistyped parameter format once, by its rule, with the value given and the values allowed', () => {
    // Arrange: the restart rule of config/stages.ts with one letter dropped from its format.
    const typo = {
      dryRun: true,
      alarmRules: [
        { name: 'page-only', match: { namespace: 'AWS/EC2' } },
        {
          name: 'web-cpu',
          match: { alarmName: 'web-cpu-*' },
          runbook: {
            document: 'AWS-RestartEC2Instance',
            parameters: { InstanceId: { fromDimension: 'InstanceId', format: 'ec2-instanceid' } },
          },
        },
      ],
    };
    // Act
    const message = (() => {
      try {
        parseStageConfig('dev', typo);
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    })();
    // Assert
    expect(message).toBe(
      'stage "dev": alarmRules.1.runbook.parameters.InstanceId.format (alarm rule "web-cpu"): "ec2-instanceid" is not one of "ec2-instance-id" | "security-group-id" | "s3-bucket-name" | "iam-role-arn" | "db-instance-id" | "name"',
    );
  });

  it("names a misspelled runbook parameter, its rule and the AWS-owned document's parameters", () => {
    // Arrange: web-cpu's parameter spelled InstanceID; AWS-RestartEC2Instance takes InstanceId.
    const typo = {
      dryRun: true,
      alarmRules: [
        { name: 'page-only', match: { namespace: 'AWS/EC2' } },
        {
          name: 'web-cpu',
          match: { alarmName: 'web-cpu-*' },
          runbook: {
            document: 'AWS-RestartEC2Instance',
            parameters: { InstanceID: { fromDimension: 'InstanceId', format: 'ec2-instance-id' } },
          },
        },
      ],
    };
    // Act
    const act = () => parseStageConfig('dev', typo);
    // Assert
    expect(act).toThrow(ConfigError);
    expect(act).toThrow(
      'stage "dev": alarmRules.1.runbook.parameters.InstanceID (alarm rule "web-cpu"): not a parameter of AWS-RestartEC2Instance (its parameters: AutomationAssumeRole, InstanceId)',
    );
  });

  it("accepts every AWS-owned document's own parameter names, and any name for a document it does not know", () => {
    // Arrange
    const rule = (name: string, document: string, parameter: string) => ({
      name,
      match: { namespace: 'AWS/EC2' },
      runbook: { document, parameters: { [parameter]: { value: 'x' } }, scope: 'none' as const },
    });
    // Act
    const cfg = parseStageConfig('s', {
      dryRun: true,
      alarmRules: [
        rule('stop', 'AWS-StopEC2Instance', 'InstanceId'),
        rule('rds', 'AWS-RebootRdsInstance', 'InstanceId'),
        rule('bucket', 'AWS-DisableS3BucketPublicReadWrite', 'S3BucketName'),
        rule('own', 'Acme-RestartService', 'ServiceName'),
      ],
    });
    // Assert
    expect(cfg.alarmRules.map((r) => r.name)).toEqual(['stop', 'rds', 'bucket', 'own']);
    expect(() =>
      parseStageConfig('s', {
        dryRun: true,
        alarmRules: [rule('bucket', 'AWS-DisableS3BucketPublicReadWrite', 'BucketName')],
      }),
    ).toThrow(
      'alarmRules.0.runbook.parameters.BucketName (alarm rule "bucket"): not a parameter of AWS-DisableS3BucketPublicReadWrite (its parameters: AutomationAssumeRole, S3BucketName)',
    );
  });

  it('rejects a rule that matches nothing and an unknown key', () => {
    expect(() => parseStageConfig('s', { dryRun: true, alarmRules: [{ name: 'r', match: {} }] })).toThrow(
      /at least one of alarmName, namespace, metricName, tag/,
    );
    expect(() => parseStageConfig('s', { dryRun: true, dryrun: false })).toThrow(/dryrun/);
  });

  it('rejects two rules with one name', () => {
    const rule = { name: 'same', match: { namespace: 'AWS/EC2' } };
    expect(() => parseStageConfig('s', { dryRun: true, alarmRules: [rule, rule] })).toThrow(/used twice/);
  });

  it('lets DRY_RUN, PAGE_TOPIC_ARN and STATE_TABLE_NAME override the stage', () => {
    // Act
    const cfg = loadConfig({
      STAGE: 'prod',
      DRY_RUN: 'true',
      PAGE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
      STATE_TABLE_NAME: 'tbl',
    });
    // Assert
    expect(cfg.dryRun).toBe(true);
    expect(cfg.pageTopicArn).toBe('arn:aws:sns:us-east-1:123456789012:t');
    expect(cfg.stateTableName).toBe('tbl');
    expect(loadConfig({ STAGE: 'prod' }).dryRun).toBe(false);
  });

  it("gives a function the shared settings and its own, and no other function's", () => {
    // Act
    const cfg = loadConfig({ STAGE: 'prod' }, [functionSettings.onAlarm]);
    // Assert
    expect(cfg.alarmRules.length).toBeGreaterThan(0);
    expect(cfg.paging.suppressionWindowMinutes).toBeGreaterThan(0);
    expect(cfg.rateGuard).toBeDefined();
    expect(Object.keys(cfg)).not.toContain('cloudTrail');
    expect(Object.keys(cfg)).not.toContain('idleStop');
  });

  it.each(registry.map((entry) => [entry.name, entry] as const))(
    '%s reads the settings the stage composes for it',
    async (name, entry) => {
      // Arrange: the spec and the registry from one module graph (another test here resets modules).
      const spec = (await import(`#functions/${name}/spec.ts`))[name] as AnyFunctionSpec;
      const { registry: loaded } = await import('#functions/index.ts');
      const registered = loaded.find((e) => e.name === entry.name);
      // Assert: the runtime parses only a spec's settings, so one left out is a key undefined at 3 a.m.
      expect(spec.settings).toContain(registered?.settings);
    },
  );

  it('rejects a DRY_RUN that is neither true nor false, and an unknown stage', () => {
    expect(() => loadConfig({ STAGE: 'dev', DRY_RUN: 'yes' })).toThrow(/DRY_RUN/);
    expect(() => loadConfig({ STAGE: 'qa' })).toThrow(/no stage "qa"/);
  });

  it("names the field of a bad value in each function's settings, composed into the stage", () => {
    // Arrange
    const badIdleStop = { dryRun: true, idleStop: { cpuThresholdPercent: 150 } };
    const badRunbooks = { dryRun: true, runbooks: { maxStartsPerIncident: 0 } };
    const badScope = {
      dryRun: true,
      alarmRules: [
        {
          name: 'r',
          match: { namespace: 'AWS/EC2' },
          runbook: { document: 'AWS-RestartEC2Instance', scope: { tag: { key: '', value: 'true' } } },
        },
      ],
    };
    // Act + Assert
    expect(() => parseStageConfig('s', badIdleStop)).toThrow(/stage "s": idleStop\.cpuThresholdPercent: /);
    expect(() => parseStageConfig('s', badRunbooks)).toThrow(/stage "s": runbooks\.maxStartsPerIncident: /);
    expect(() => parseStageConfig('s', badScope)).toThrow(/alarmRules\.0\.runbook\.scope/);
  });

  it("loads a function's settings before the configuration that composes them", async () => {
    // Arrange: a fresh module graph entered from the function's side, the order in which a settings file
    // importing the configuration back would meet a schema not yet initialized.
    vi.resetModules();
    const onAlarmSettings = await import('#functions/onAlarm/settings.ts');
    const idleSettings = await import('#shared/idle/stageSettings.ts');
    // Act
    const { parseStageConfig: parse } = await import('#config/stageConfig.ts');
    const cfg = parse('s', { dryRun: true, alarmRules: [{ name: 'r', match: { namespace: 'AWS/EC2' } }] });
    // Assert
    expect(onAlarmSettings.AlarmRule.parse({ name: 'r', match: { namespace: 'AWS/EC2' } }).page).toBe(true);
    expect(idleSettings.IdleStopSettings.parse({}).maxStopsPerHour).toBe(10);
    expect(cfg.alarmRules[0]?.name).toBe('r');
    expect(cfg.idleStop.scope).toBe('opt-in');
    expect(cfg.runbooks.maxStartsPerIncident).toBe(1);
  });
});

describe('tracing: on in Lambda unless switched off, as the Powertools tracer decides', () => {
  const LAMBDA = { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' };

  it('is on in Lambda by default and with POWERTOOLS_TRACE_ENABLED=true', () => {
    // Assert
    expect(tracingEnabled(LAMBDA)).toBe(true);
    expect(tracingEnabled({ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'true' })).toBe(true);
  });

  it('is off with POWERTOOLS_TRACE_ENABLED=false in any case, outside Lambda, under SAM local and Amplify mock', () => {
    // Assert
    expect(tracingEnabled({ ...LAMBDA, POWERTOOLS_TRACE_ENABLED: 'FALSE' })).toBe(false);
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ ...LAMBDA, AWS_SAM_LOCAL: 'true' })).toBe(false);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
  });
});
