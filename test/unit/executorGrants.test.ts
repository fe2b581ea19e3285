import { describe, expect, it } from 'vitest';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { executorsOn, type FunctionDeployment, registry } from '#functions/index.ts';
import { RUNTIME_PERMISSIONS } from '#shared/runtime/permissions.ts';

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

  it.each(registry.map((e) => [e.name, e] as const))(
    "%s writes each executor's AWS actions once, in its deployment's statements: the executor names only the runtime's",
    async (name) => {
      // Arrange
      const spec = (await import(`#functions/${name}/spec.ts`))[name] as {
        executors: Record<string, { permissions: readonly string[] }>;
      };
      // Act: an executor may name what every role holds (page topic and key, the state table's records);
      // any other action it names would be a second declaration of its grant's statements.
      const onTheExecutor = Object.entries(spec.executors).flatMap(([kind, executor]) =>
        executor.permissions
          .filter((action) => !RUNTIME_PERMISSIONS.includes(action) && !action.startsWith('dynamodb:'))
          .map((action) => `${kind}: ${action}`),
      );
      // Assert
      expect(onTheExecutor).toEqual([]);
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

  it("declares an executor's actions, those its grant's statements allow, and its reads only on a stage that turns it on", () => {
    // Arrange: the executor names its state record; its EC2 action is its grant's statement alone.
    const spec = {
      executors: { 'ec2.stop-instances': { permissions: ['dynamodb:PutItem'] } },
      gather: { permissions: [] },
    };
    const stop = { Sid: 'Stop', Effect: 'Allow', Action: 'ec2:StopInstances', Resource: '*' };
    const onlyStopTags = { Sid: 'OnlyStopTags', Effect: 'Deny', Action: 'ec2:CreateTags', Resource: '*' };
    const deployment = {
      executors: {
        'ec2.stop-instances': {
          statements: (s: { dryRun: boolean }) => (s.dryRun ? 'off' : [stop, onlyStopTags]),
          reads: ['ec2:DescribeInstances'],
        },
      },
    } as unknown as FunctionDeployment;
    const stage = everyStage[0]?.[1];
    if (stage === undefined) throw new Error('no stage in config/stages.ts');
    // Act
    const off = executorsOn('f', spec, deployment, { ...stage, dryRun: true });
    const on = executorsOn('f', spec, deployment, { ...stage, dryRun: false });
    // Assert: a denied action is not one it needs.
    expect(off).toEqual({});
    expect(on).toEqual({
      'ec2.stop-instances': {
        permissions: ['dynamodb:PutItem', 'ec2:StopInstances', 'ec2:DescribeInstances'],
      },
    });
  });
});
