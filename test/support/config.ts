import { functionSettings, StageConfig, type StageConfigInput } from '#config/stageConfig.ts';
import { loadConfig, type RuntimeConfig } from '#shared/config.ts';

/** A runtime configuration for pure tests: the dev stage with the given changes. */
export function makeConfig(
  overrides: Partial<StageConfigInput> = {},
  runtime: Partial<RuntimeConfig> = {},
): RuntimeConfig {
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
