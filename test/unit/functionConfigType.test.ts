import { describe, expect, expectTypeOf, it } from 'vitest';
import { functionSettings, registry } from '#functions/index.ts';
import type { gatherAlarm } from '#functions/onAlarm/gather.ts';
import type { planAlarm } from '#functions/onAlarm/plan.ts';
import type { gatherBackupFailure } from '#functions/onBackupFailure/gather.ts';
import type { planBackupFailure } from '#functions/onBackupFailure/plan.ts';
import type { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import type { gatherCostAnomaly } from '#functions/onCostAnomaly/gather.ts';
import type { planCostAnomaly } from '#functions/onCostAnomaly/plan.ts';
import type { gatherRunbookResult } from '#functions/onRunbookResult/gather.ts';
import type { planRunbookResult } from '#functions/onRunbookResult/plan.ts';
import type { planIdleScan } from '#functions/stopIdleInstances/plan.ts';
import type { observeIdleScan } from '#functions/stopIdleInstances/signal.ts';
import { loadConfig, type SharedConfig } from '#shared/config.ts';
import type { AnyFunctionSpec } from '#shared/runtime/functionSpec.ts';

/**
 * A running function parses only the shared settings and its spec's own (shared/config.ts): another
 * function's key is undefined in its bundle. These tests hold the types to the same rule, so code that
 * reads another function's key does not compile (typechecked by `npm run typecheck`), and check that
 * the runtime holds exactly the keys the type names.
 */

/** The keys of the configuration a step's code receives: its input's `config`. */
type ConfigKeys<Step extends (input: never, ...rest: never[]) => unknown> = Parameters<Step>[0] extends {
  config: infer C;
}
  ? keyof C
  : never;
/** The keys of the configuration an observe step receives: its second argument's `config`. */
type ObservedConfigKeys<Step extends (event: never, env: never) => unknown> = Parameters<Step>[1] extends {
  config: infer C;
}
  ? keyof C
  : never;
type SharedKeys = keyof SharedConfig;

/** Each function's own keys in a stage, as its settings (and the idle stopper's, where it runs it) name them. */
const OWN_KEYS = {
  onAlarm: ['alarmRules', 'runbooks'],
  onCloudTrail: ['cloudTrail'],
  stopIdleInstances: ['idleStop'],
  onCostAnomaly: ['costAnomaly', 'idleStop'],
  onRunbookResult: ['runbookResult'],
  onBackupFailure: ['backupFailure'],
  // Its decision needs only the shared keys; the approved action carries its owner's settings.
  approveAction: [],
} as const;
type OwnKeys<F extends keyof typeof OWN_KEYS> = (typeof OWN_KEYS)[F][number];

describe("a function's configuration type is the shared settings and its spec's own", () => {
  it("types each function's gather and plan config as the shared keys and its own, no other function's", () => {
    // Assert (at compile time): a key of another function in one of these is a type error in its code.
    expectTypeOf<ConfigKeys<typeof gatherAlarm>>().toEqualTypeOf<SharedKeys | OwnKeys<'onAlarm'>>();
    expectTypeOf<ConfigKeys<typeof planAlarm>>().toEqualTypeOf<SharedKeys | OwnKeys<'onAlarm'>>();
    expectTypeOf<ConfigKeys<typeof planCloudTrail>>().toEqualTypeOf<SharedKeys | OwnKeys<'onCloudTrail'>>();
    expectTypeOf<ObservedConfigKeys<typeof observeIdleScan>>().toEqualTypeOf<
      SharedKeys | OwnKeys<'stopIdleInstances'>
    >();
    expectTypeOf<ConfigKeys<typeof planIdleScan>>().toEqualTypeOf<
      SharedKeys | OwnKeys<'stopIdleInstances'>
    >();
    expectTypeOf<ConfigKeys<typeof gatherCostAnomaly>>().toEqualTypeOf<
      SharedKeys | OwnKeys<'onCostAnomaly'>
    >();
    expectTypeOf<ConfigKeys<typeof planCostAnomaly>>().toEqualTypeOf<SharedKeys | OwnKeys<'onCostAnomaly'>>();
    expectTypeOf<ConfigKeys<typeof gatherRunbookResult>>().toEqualTypeOf<
      SharedKeys | OwnKeys<'onRunbookResult'>
    >();
    expectTypeOf<ConfigKeys<typeof planRunbookResult>>().toEqualTypeOf<
      SharedKeys | OwnKeys<'onRunbookResult'>
    >();
    expectTypeOf<ConfigKeys<typeof gatherBackupFailure>>().toEqualTypeOf<
      SharedKeys | OwnKeys<'onBackupFailure'>
    >();
    expectTypeOf<ConfigKeys<typeof planBackupFailure>>().toEqualTypeOf<
      SharedKeys | OwnKeys<'onBackupFailure'>
    >();
  });

  it('knows the own keys of every registered function', () => {
    expect(Object.keys(OWN_KEYS).sort()).toEqual(registry.map((entry) => entry.name).sort());
  });

  it.each(Object.entries(OWN_KEYS))(
    '%s runs with exactly the keys its configuration type names',
    async (name, own) => {
      // Arrange
      const spec = (await import(`#functions/${name}/spec.ts`))[name] as AnyFunctionSpec;
      // The organization's stage: it sets every optional key (its `organization` is a shared key).
      const shared = Object.keys(loadConfig({ STAGE: 'org' }));
      // Act
      const keys = Object.keys(loadConfig({ STAGE: 'org' }, spec.settings));
      // Assert
      expect(keys.sort()).toEqual([...shared, ...own].sort());
    },
  );

  it("refuses to compile onAlarm code that reads onCloudTrail's settings, which its bundle lacks", () => {
    // Arrange
    const config: Parameters<typeof planAlarm>[0]['config'] = loadConfig({ STAGE: 'prod' }, [
      functionSettings.onAlarm,
    ]);
    // Act
    // @ts-expect-error cloudTrail is onCloudTrail's setting: onAlarm's type has no such key.
    const read = config.cloudTrail;
    // Assert: and at run time it is indeed absent.
    expect(read).toBeUndefined();
    expect(config.alarmRules.length).toBeGreaterThan(0);
  });
});
