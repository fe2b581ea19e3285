'use strict';
/**
 * Loads config/stages.ts through shared/config.ts (the same zod schema the functions use), so
 * `sls package` fails on an invalid stage configuration, and exposes values the template needs:
 *   ${opsConfig:runbookDocumentArns}  the automation definitions the stage's alarm rules may start
 */
const path = require('node:path');

function loadStage(stage) {
  const { require: tsRequire } = require('tsx/cjs/api');
  const configModule = tsRequire(path.join(__dirname, '..', 'shared', 'config.ts'), __filename);
  configModule.validateAllStages();
  return configModule.loadConfig({ STAGE: stage });
}

class OpsConfigPlugin {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
    this.configurationVariablesSources = {
      opsConfig: {
        resolve: async ({ address, resolveVariable }) => {
          const stage = this.options.stage ?? (await resolveVariable('sls:stage'));
          let stageConfig;
          try {
            stageConfig = loadStage(stage);
          } catch (error) {
            throw new Error(`ops-autopilot configuration is invalid: ${error.message}`);
          }
          if (address === 'runbookDocumentArns') {
            const docs = [
              ...new Set(stageConfig.alarmRules.flatMap((r) => (r.runbook ? [r.runbook.document] : []))),
            ];
            // IAM needs at least one resource; this name matches no document, so nothing may start.
            const names = docs.length > 0 ? docs : ['none-configured'];
            return {
              value: names.map((doc) => ({
                'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:automation-definition/${doc}:*`,
              })),
            };
          }
          if (address === 'dryRun') return { value: String(stageConfig.dryRun) };
          throw new Error(`opsConfig: unknown address "${address}"`);
        },
      },
    };
    this.hooks = {
      'before:package:finalize': () => this.dropRedundantRoleDependencies(),
    };
  }

  /** Each function names its own role with GetAtt, which already orders creation (cfn-lint W3005). */
  dropRedundantRoleDependencies() {
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    for (const resource of Object.values(resources)) {
      if (resource.Type !== 'AWS::Lambda::Function' || !Array.isArray(resource.DependsOn)) continue;
      const role = resource.Properties.Role;
      const roleId = role?.['Fn::GetAtt']?.[0];
      if (roleId) resource.DependsOn = resource.DependsOn.filter((d) => d !== roleId);
    }
  }
}

module.exports = OpsConfigPlugin;
