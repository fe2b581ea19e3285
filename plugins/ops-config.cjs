'use strict';
/**
 * Loads config/stages.ts through shared/config.ts (the same zod schema the functions use), so
 * `sls package` fails on an invalid stage configuration, and exposes values the template needs:
 *   ${opsConfig:runbookDocumentArns}  the automation definitions the stage's alarm rules may start
 *   ${opsConfig:idleStopCondition}    the IAM condition that keeps stops inside the stage's scope
 *   ${opsConfig:runbookScopeCondition} the IAM condition that keeps runbooks to opted-in instances
 */
const fs = require('node:fs');
const path = require('node:path');

function loadConfigModule() {
  const { require: tsRequire } = require('tsx/cjs/api');
  return tsRequire(path.join(__dirname, '..', 'shared', 'config.ts'), __filename);
}

function loadStage(stage) {
  const configModule = loadConfigModule();
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
          if (address === 'idleStopCondition') {
            // opt-in: only instances tagged ops:auto-stop=true may be stopped or tagged by this role;
            // opt-out: any but those tagged false (a missing tag satisfies a negated condition).
            const key = 'aws:ResourceTag/ops:auto-stop';
            return {
              value:
                stageConfig.idleStop.scope === 'opt-in'
                  ? { StringEquals: { [key]: 'true' } }
                  : { StringNotEqualsIgnoreCase: { [key]: 'false' } },
            };
          }
          if (address === 'runbookScopeCondition') {
            // The runbooks' role may stop and start only instances carrying the opt-in tag of the
            // stage's rules (one key, any of their values): a crafted alarm cannot reach other instances.
            const { key, values } = loadConfigModule().runbookScopeTags(stageConfig);
            return {
              value: {
                StringEquals: { [`aws:ResourceTag/${key}`]: values.length === 1 ? values[0] : values },
              },
            };
          }
          throw new Error(`opsConfig: unknown address "${address}"`);
        },
      },
    };
    this.hooks = {
      initialize: () => this.keepInvokeLocalOffline(),
      'before:invoke:local:invoke': () => this.bridgeEsmHandler(),
      error: () => this.exitInvokeLocalAfterError(),
      'before:package:finalize': () => this.dropRedundantRoleDependencies(),
    };
  }

  /**
   * `sls invoke local` would resolve !Ref environment values by asking CloudFormation for the stack
   * (and cannot resolve !GetAtt at all). Locally they come from the shell instead (PAGE_TOPIC_ARN,
   * STATE_TABLE_NAME, AUTOMATION_ROLE_ARN), or are left out, so it runs offline.
   */
  keepInvokeLocalOffline() {
    if (!this.isInvokeLocal()) return;
    const functions = Object.values(this.serverless.service.functions ?? {});
    const environments = [
      this.serverless.service.provider.environment,
      ...functions.map((f) => f.environment),
    ];
    for (const environment of environments.filter(Boolean)) {
      for (const [name, value] of Object.entries(environment)) {
        if (value === null || typeof value !== 'object') continue;
        if (process.env[name]) environment[name] = process.env[name];
        else delete environment[name];
      }
    }
  }

  /**
   * The bundles are ES modules (.mjs, measured faster to load), which osls's invoke local does not
   * look for. Node 22 can require() an ES module, so a one-line .cjs bridge beside the bundle lets it load.
   */
  bridgeEsmHandler() {
    const fn = this.serverless.service.getFunction(this.options.function);
    const base = path.join(this.serverless.serviceDir, fn.handler.slice(0, fn.handler.lastIndexOf('.')));
    if (fs.existsSync(`${base}.mjs`) && !fs.existsSync(`${base}.cjs`)) {
      fs.writeFileSync(`${base}.cjs`, `module.exports = require('./${path.basename(base)}.mjs');\n`);
    }
  }

  /**
   * A handler that throws while it loads (a start-up error: STATE_TABLE_NAME unset, PAGE_TOPIC_ARN not
   * an ARN) aborts invoke local before serverless-esbuild disposes its build context, and esbuild's
   * service process would keep node alive after the error is printed. Stop it so the command exits
   * with osls's non-zero code; anything else left open gets a few seconds, then the process exits 1.
   */
  async exitInvokeLocalAfterError() {
    if (!this.isInvokeLocal()) return;
    setTimeout(() => process.exit(1), 5000).unref();
    await require('esbuild').stop();
  }

  isInvokeLocal() {
    const commands = this.serverless.processedInput?.commands ?? [];
    return commands[0] === 'invoke' && commands[1] === 'local';
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
