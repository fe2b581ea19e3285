import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { executorsOn, type FunctionDeployment, registry } from '#functions/index.ts';

const everyStage = Object.entries(stages).map(([name, raw]) => [name, parseStageConfig(name, raw)] as const);

describe("executor grants: a function's role, executors and declared actions come from its deployment", () => {
  it.each(registry.map((e) => [e.name, e] as const))(
    '%s grants exactly the executors its spec wires, on every stage',
    async (_name, entry) => {
      // Act: permissions() refuses a spec executor without a grant, and a grant for no executor.
      const declared = await Promise.all(everyStage.map(([, stage]) => entry.permissions(stage)));
      // Assert
      for (const actions of declared) expect(actions.length).toBeGreaterThan(0);
    },
  );

  it('refuses an executor the deployment does not grant, naming the function and the intent kind', () => {
    // Arrange
    const spec = { executors: { 'sns.page': { permissions: ['sns:Publish'] } }, gather: { permissions: [] } };
    const deployment = { executors: {} } as unknown as FunctionDeployment;
    const [, stage] = everyStage[0] ?? [];
    // Act + Assert
    expect(() => executorsOn('onSomething', spec, deployment, stage as never)).toThrow(
      'onSomething: deployment.ts grants no executor sns.page',
    );
  });

  it("declares an executor's actions and its reads only on a stage that turns it on", () => {
    // Arrange
    const spec = {
      executors: { 'ec2.stop-instances': { permissions: ['ec2:StopInstances'] } },
      gather: { permissions: [] },
    };
    const deployment = {
      executors: {
        'ec2.stop-instances': {
          statements: (s: { dryRun: boolean }) => (s.dryRun ? 'off' : []),
          reads: ['ec2:DescribeInstances'],
        },
      },
    } as unknown as FunctionDeployment;
    const stage = everyStage[0]?.[1];
    if (stage === undefined) throw new Error('no stage in config/stages.ts');
    // Act
    const off = executorsOn('f', spec, deployment, { ...stage, dryRun: true });
    const on = executorsOn('f', spec, deployment, { ...stage, dryRun: false });
    // Assert
    expect(off).toEqual({});
    expect(on).toEqual({
      'ec2.stop-instances': { permissions: ['ec2:StopInstances', 'ec2:DescribeInstances'] },
    });
  });
});
