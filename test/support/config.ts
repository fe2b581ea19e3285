import { functionSettings, StageConfig, type StageConfigInput } from '#config/stageConfig.ts';
import { type EnvironmentConfig, loadConfig } from '#shared/config.ts';

/**
 * Every function's keys at once: what a pure test hands any function's steps or executors (each takes
 * the shared keys and its own, which this holds).
 */
export type StageRuntimeConfig = StageConfig & EnvironmentConfig;

/** A runtime configuration for pure tests: the dev stage with the given changes. */
export function makeConfig(
  overrides: Partial<StageConfigInput> = {},
  runtime: Partial<StageRuntimeConfig> = {},
): StageRuntimeConfig {
  const {
    stage,
    functionName,
    pageTopicArn,
    pageChatTopicArn,
    pagePagerTopicArn,
    stateTableName,
    automationRoleArn,
    globalEventsHomeRegion,
    ...devValues
  } = loadConfig({ STAGE: 'dev' }, Object.values(functionSettings));
  const values = StageConfig.parse({ ...devValues, ...overrides });
  return {
    ...values,
    stage,
    functionName,
    pageTopicArn: 'arn:aws:sns:us-east-1:123456789012:pages',
    pageChatTopicArn,
    pagePagerTopicArn,
    stateTableName: 'state',
    automationRoleArn,
    globalEventsHomeRegion,
    ...runtime,
  };
}
