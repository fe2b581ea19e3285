import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyOfRepository, editStages, type Run, sls } from '../support/deployRehearsal.ts';

/** web-cpu's parameter format with one letter missing. */
const withTypo = (source: string) => {
  const at = source.indexOf("name: 'web-cpu'");
  const format = source.indexOf("format: 'ec2-instance-id'", at);
  return `${source.slice(0, format)}format: 'ec2-instanceid'${source.slice(format + 25)}`;
};

/**
 * `sls package` of a copy with the typo, three times in a row as a user retrying would: the first run
 * is also the one the message is read from (one copy and three osls runs, instead of a fourth for it).
 * Started by the first test that asks.
 */
let typoRuns: Promise<Run[]> | undefined;
const packagedWithTypo = (): Promise<Run[]> => {
  typoRuns ??= (async () => {
    const copy = copyOfRepository();
    editStages(copy, withTypo);
    const runs: Run[] = [];
    for (let i = 0; i < 3; i++) {
      runs.push(await sls(copy, ['package', '--stage', 'dev', '--package', join(copy, '.serverless')]));
    }
    return runs;
  })();
  return typoRuns;
};

describe('a typo in config/stages.ts', () => {
  it('stops sls package with one message naming the rule, the value and the values allowed, without a stack trace', async () => {
    // Act
    const [run] = await packagedWithTypo();
    // Assert
    expect(run?.code).toBe(1);
    const out = run?.out ?? '';
    expect(out).toContain(
      'ops-autopilot: config/stages.ts is invalid: stage "dev": alarmRules.1.runbook.parameters.InstanceId.format (alarm rule "web-cpu"): "ec2-instanceid" is not one of "ec2-instance-id" | "security-group-id" |',
    );
    expect(out.split('config/stages.ts is invalid').length - 1).toBe(1);
    expect(out).not.toMatch(/^\s+at /m);
    expect(out).not.toContain('Invalid input');
  }, 600_000);
});

describe('a misspelled runbook parameter in config/stages.ts', () => {
  it("stops sls package with one message naming the rule, the parameter and the AWS-owned document's parameters", async () => {
    // Arrange: web-cpu passes InstanceID; AWS-RestartEC2Instance takes InstanceId.
    const copy = copyOfRepository();
    editStages(copy, (source) => {
      const at = source.indexOf("name: 'web-cpu'");
      const parameter = source.indexOf('parameters: { InstanceId:', at);
      return `${source.slice(0, parameter)}parameters: { InstanceID:${source.slice(parameter + 'parameters: { InstanceId:'.length)}`;
    });
    // Act
    const run = await sls(copy, ['package', '--stage', 'dev', '--package', join(copy, '.serverless')]);
    // Assert
    expect(run.code).toBe(1);
    expect(run.out).toContain(
      'ops-autopilot: config/stages.ts is invalid: stage "dev": alarmRules.1.runbook.parameters.InstanceID (alarm rule "web-cpu"): not a parameter of AWS-RestartEC2Instance (its parameters: AutomationAssumeRole, InstanceId)',
    );
    expect(run.out).not.toMatch(/^\s+at /m);
  }, 240_000);
});

describe('a bad configuration, packaged again and again', () => {
  it("ends sls package with the configuration error as its last line, never esbuild's goroutine dump", async () => {
    // Act: the dump came from a race (esbuild's service left with an unanswered ping when sls exits),
    // so one run proves little; three in a row, as a user retrying would.
    const runs = await packagedWithTypo();
    // Assert
    expect(runs).toHaveLength(3);
    for (const run of runs) {
      const lines = run.out.trimEnd().split('\n');
      expect(run.code, run.out).toBe(1);
      expect(run.out, run.out).not.toContain('goroutine');
      expect(run.out).not.toContain('all goroutines are asleep');
      expect(lines.at(-1), run.out).toContain('ops-autopilot: config/stages.ts is invalid: stage "dev": ');
    }
  }, 600_000);
});
