import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseStageConfig, StageConfig } from '#config/stageConfig.ts';
import { registry } from '#functions/index.ts';
import {
  MAX_ROLE_NAME,
  SCAFFOLD_EDITS,
  scaffoldFiles,
  scaffoldNames,
  withRegistryEntry,
  withStageSettings,
} from '../../tools/scaffold/scaffold.ts';

// npm run new:function: the name's checks, the files it writes and the edits that register the function.
// The whole run on a clean clone (git status, typecheck, sls package): test/package/newFunction.package.test.ts.
const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const existing = {
  functions: registry.map((e) => e.name),
  settingsKeys: Object.keys(StageConfig.shape),
};
// A name no function takes, so the test holds after any function is scaffolded.
const exampleEvent = scaffoldNames('onExampleEvent', existing);

describe('npm run new:function: the name', () => {
  it.each([
    [undefined, 'name: missing'],
    ['', 'name: missing'],
    ['exampleEvent', 'must be camelCase, "on" then a capital'],
    ['onexampleEvent', 'must be camelCase, "on" then a capital'],
    ['on-example-event', 'must be camelCase, "on" then a capital'],
    ['onHealth_Event', 'must be camelCase, "on" then a capital'],
    ['onHealth/../../x', 'must be camelCase, "on" then a capital'],
    ['onAlarm', 'exists already'],
    ['onALARM', 'exists already'],
    ['onAVeryLongFunctionNameIndeed', 'is too long'],
  ])('refuses %j naming the field: %s', (name, message) => {
    // Act
    const refusal = () => scaffoldNames(name, existing);
    // Assert
    expect(refusal).toThrow(/^name: /);
    expect(refusal).toThrow(message);
  });

  it('refuses a name whose stage settings key another function or the runtime already has', () => {
    // Act
    const refusal = () => scaffoldNames('onPaging', existing);
    // Assert
    expect(refusal).toThrow('would take the stage settings key "paging"');
  });

  it('derives the names the house uses: type, settings key, and role and rule name', () => {
    // Assert
    expect(exampleEvent).toEqual({
      name: 'onExampleEvent',
      type: 'ExampleEvent',
      event: 'ExampleEvent',
      key: 'exampleEvent',
      kebab: 'on-example-event',
    });
    expect(scaffoldNames('onQuotaBreach', existing).event).toBe('QuotaBreachEvent');
    expect(`ops-autopilot-prod-${'a'.repeat(MAX_ROLE_NAME)}-ap-southeast-2`.length).toBeLessThanOrEqual(64);
  });
});

describe('npm run new:function: what it writes', () => {
  const files = scaffoldFiles(exampleEvent);

  it('writes the folder, its fixtures and its docs page, and nothing outside them', () => {
    // Act
    const paths = files.map((f) => f.path);
    // Assert
    for (const part of ['spec', 'schema', 'signal', 'gather', 'plan', 'handler', 'deployment', 'settings']) {
      expect(paths).toContain(`functions/onExampleEvent/${part}.ts`);
    }
    expect(paths).toEqual(
      expect.arrayContaining([
        'functions/onExampleEvent/pattern.json',
        'functions/onExampleEvent/handler.test.ts',
        'events/onExampleEvent/sample.json',
        'events/onExampleEvent/README.md',
        'docs/functions/onExampleEvent.md',
      ]),
    );
    expect(paths.filter((p) => !/^(functions|events)\/onExampleEvent\/|^docs\//.test(p))).toEqual([]);
  });

  it('fills in every placeholder of every template', () => {
    // Assert
    for (const { path, text } of files) expect(text, path).not.toMatch(/__[A-Z]+__/);
    expect(files.find((f) => f.path.endsWith('/schema.ts'))?.text).toContain('export const ExampleEvent =');
  });

  it('writes a sample event that is JSON, names its function and is the deployment sample', () => {
    // Act
    const sample = JSON.parse(files.find((f) => f.path === 'events/onExampleEvent/sample.json')?.text ?? '');
    // Assert
    expect(sample).toMatchObject({ source: 'aws.health', 'detail-type': 'AWS Health Event' });
    expect(files.find((f) => f.path.endsWith('/deployment.ts'))?.text).toContain(
      "sampleFixture: 'onExampleEvent/sample.json'",
    );
  });
});

describe('npm run new:function: the edits that register it', () => {
  it('adds its deployment import, in order, and its entry at the end of the registry', () => {
    // Act
    const edited = withRegistryEntry(read('functions/index.ts'), exampleEvent);
    // Assert
    const imports = edited.split('\n').filter((l) => /^import \{ deployment as /.test(l));
    expect(imports).toContain(
      "import { deployment as onExampleEvent } from './onExampleEvent/deployment.ts';",
    );
    expect(imports).toEqual([...imports].sort());
    expect(edited.trimEnd()).toMatch(
      /described\(\n {4}'onExampleEvent',\n {4}onExampleEvent,\n.*onExampleEvent\/spec\.ts.*\n.*onExampleEvent\/handler\.ts.*\n {2}\),\n\];$/,
    );
  });

  it('lists its settings in the registry, where the stage schema composes them from', () => {
    // Act
    const edited = withRegistryEntry(read('functions/index.ts'), exampleEvent);
    // Assert
    expect(edited).toContain(
      "import { settings as onExampleEventSettings } from './onExampleEvent/settings.ts';",
    );
    expect(edited).toMatch(
      / {2}onExampleEvent: onExampleEventSettings,\n\} as const satisfies Record<string, FunctionSettings>/,
    );
  });

  it('edits no file but the registry and the stages (config/stageConfig.ts reads the registry)', () => {
    // Assert
    expect(SCAFFOLD_EDITS.map((e) => e.path)).toEqual(['functions/index.ts', 'config/stages.ts']);
    expect(read('config/stageConfig.ts')).toContain("from '#functions/index.ts'");
  });

  it('gives every stage of config/stages.ts its key, once, inside the stage', () => {
    // Arrange
    const source = read('config/stages.ts');
    const stages = [...(source.split('export const stages')[1] ?? '').matchAll(/^ {2}(\w+): \{$/gm)];
    // Act
    const edited = withStageSettings(source, exampleEvent);
    // Assert
    expect(edited.match(/^ {4}exampleEvent: \{\},$/gm)).toHaveLength(stages.length);
    expect(stages.length).toBeGreaterThan(1);
    expect(edited.replace(/\n {4}\/\/ onExampleEvent: .*\n {4}exampleEvent: \{\},/g, '')).toBe(source);
  });

  it('refuses to edit a file that has lost its anchors, naming the file', () => {
    // Assert
    expect(() => withRegistryEntry('export const x = 1;\n', exampleEvent)).toThrow(/^functions\/index\.ts: /);
    expect(() =>
      withRegistryEntry(
        "import { deployment as onAlarm } from './onAlarm/deployment.ts';\nexport const registry = [\n];\n",
        exampleEvent,
      ),
    ).toThrow(/^functions\/index\.ts: no `export const functionSettings/);
    expect(() => withStageSettings('export const stages = {\n};\n', exampleEvent)).toThrow(
      /^config\/stages\.ts: /,
    );
  });

  it("adds a key today's configuration does not know (so a stage's value cannot mean something else)", () => {
    // Assert
    expect(() => parseStageConfig('dev', { exampleEvent: {} })).toThrow(/exampleEvent/);
  });
});
