'use strict';
/**
 * The stack's adapter for osls. Loads config/stages.ts through config/stageConfig.ts (every function's
 * settings, the schemas each function parses its own with), so `sls package` fails on an invalid stage
 * configuration, and adds what the typed derivations in deploy/stack/ build from the function registry
 * (functions/index.ts):
 *   ${opsConfig:functions}             the function entries: handler, role, retries, failure queue, rules
 *   before the template is written: each function's role (the runtime's statements, declared in
 *   shared/runtime/statements.ts, then its deployment's own), its alarms on itself, the global-events
 *   forward rules with their alarms, on an organization's stage its bus, rules and member StackSets
 *   (deploy/org/), and the dashboard.
 *   ${opsConfig:runbookPolicies}       the automation role's policy: what the configured runbooks need
 *   ${opsConfig:stateTableDeletionPolicy} Retain, or Delete when the stage param retainStateTable is false
 * A bad configuration stops the command with one message and no stack trace. `sls deploy` checks that
 * every configured runbook document exists and takes the parameters its rules pass
 * (ssm:DescribeDocument); `sls package` says it did not (AWS-owned documents' parameter names are
 * checked with the configuration, from shared/domain/awsRunbookDocuments.ts).
 */
const path = require('node:path');
const { stopEsbuildServicesOnExit } = require('./esbuildServices.cjs');
const { InvokeLocalWorkarounds } = require('./invokeLocal.cjs');

const ROOT = path.join(__dirname, '..');

/** TypeScript modules, compiled on load by tsx: the derivations are typed and unit-tested (deploy/stack/). */
function tsRequire(file) {
  const { require: load } = require('tsx/cjs/api');
  return load(path.join(ROOT, file), __filename);
}

const loadStageConfigModule = () => tsRequire('config/stageConfig.ts');
const loadRegistry = () => tsRequire('functions/index.ts').registry;
const loadOnAlarmDeployment = () => tsRequire('functions/onAlarm/deployment.ts');
const loadStack = () => tsRequire('deploy/stack/index.ts');
const loadSigma = () => tsRequire('functions/onCloudTrail/sigma/load.ts');

function loadStage(stage) {
  const stageConfigModule = loadStageConfigModule();
  stageConfigModule.validateAllStages();
  return stageConfigModule.stageConfigOf(stage);
}

class OpsConfigPlugin {
  constructor(serverless, options, { log } = {}) {
    stopEsbuildServicesOnExit();
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    this.configurationVariablesSources = {
      opsConfig: {
        resolve: async ({ address, resolveVariable }) => {
          const stage = this.options.stage ?? (await resolveVariable('sls:stage'));
          // Before anything loads onCloudTrail: its settings and patterns read the compiled rules.
          if (!this.compileSigmaOnce()) return { value: 'not-resolved-sigma-rules-invalid' };
          const stageConfig = this.stageConfigOnce(stage);
          // The error was thrown once, for the first variable: the command stops with that message alone.
          if (stageConfig === undefined) return { value: 'not-resolved-configuration-invalid' };
          if (address === 'functions') {
            const target = this.stackTargetOf(
              stage,
              String(await resolveVariable('self:provider.region')),
              stageConfig,
            );
            const registry = loadRegistry();
            // A scheduled function's schedule is a stage param: resolved here, where osls resolves params.
            const schedules = {};
            for (const { deployment } of registry) {
              const { scheduleParam } = deployment.trigger;
              if (scheduleParam) schedules[scheduleParam] = await resolveVariable(`param:${scheduleParam}`);
            }
            return { value: loadStack().functionEntries(target, registry, schedules) };
          }
          if (address === 'runbookPolicies') {
            // A stage without runbooks: a role with no policy may do nothing.
            return { value: loadStack().runbookPolicies(stageConfig) };
          }
          if (address === 'stateTableDeletionPolicy') {
            const retain = String(await resolveVariable('param:retainStateTable'));
            if (retain !== 'true' && retain !== 'false') {
              throw new this.serverless.classes.Error(
                `ops-autopilot: stage param retainStateTable must be true or false; got "${retain}"`,
              );
            }
            return { value: retain === 'true' ? 'Retain' : 'Delete' };
          }
          throw new Error(`opsConfig: unknown address "${address}"`);
        },
      },
    };
    const invokeLocal = new InvokeLocalWorkarounds(serverless, options);
    this.hooks = {
      initialize: () => invokeLocal.keepInvokeLocalOffline(),
      'before:deploy:deploy': () => this.checkRunbookDocuments(),
      'after:package:finalize': () => this.sayDocumentsNotChecked(),
      'before:invoke:local:invoke': () => invokeLocal.bridgeEsmHandler(),
      'after:invoke:local:invoke': () => invokeLocal.removeEsmBridge(),
      error: () => invokeLocal.exitInvokeLocalAfterError(),
      'before:package:finalize': () => {
        this.addFunctionResources();
        loadStack().dropRedundantRoleDependencies(this.compiledResources());
      },
    };
  }

  /**
   * The Sigma rules of detections/ (OPS_SIGMA_DIRECTORY, relative to the repository, for a test's own
   * folder) compiled into onCloudTrail's generated module, once per command. A rule outside the
   * supported subset stops the command, naming its file, line and construct; a field the function never
   * sees is a warning. Returns false after the error was thrown once.
   */
  compileSigmaOnce() {
    if (this.sigma === undefined) {
      try {
        const sigma = loadSigma();
        const load = sigma.writeSigmaModule(ROOT, process.env.OPS_SIGMA_DIRECTORY || undefined);
        for (const w of load.warnings)
          this.log?.warning?.(`ops-autopilot: Sigma ${sigma.describeProblem(w)}`);
        this.sigma = { ok: true };
      } catch (error) {
        this.sigma = { ok: false };
        throw new this.serverless.classes.Error(`ops-autopilot: ${error.message}`);
      }
    }
    return this.sigma.ok;
  }

  /**
   * The stage's validated configuration, loaded once per command. The first caller gets the error, as
   * the Serverless error class osls prints without a stack trace; later callers get undefined.
   */
  stageConfigOnce(stage) {
    if (this.loaded?.stage !== stage) {
      try {
        this.loaded = { stage, config: loadStage(stage) };
      } catch (error) {
        this.loaded = { stage, error };
      }
    }
    if (!this.loaded.error) return this.loaded.config;
    if (this.loaded.reported) return undefined;
    this.loaded.reported = true;
    throw new this.serverless.classes.Error(
      `ops-autopilot: config/stages.ts is invalid: ${this.loaded.error.message}`,
    );
  }

  /** `sls deploy`: every runbook document the stage starts must exist where the stack goes. */
  async checkRunbookDocuments() {
    const provider = this.serverless.getProvider('aws');
    const stageConfig = this.stageConfigOnce(provider.getStage());
    const onAlarmDeployment = loadOnAlarmDeployment();
    const documents = onAlarmDeployment.configuredRunbookDocuments(stageConfig);
    const { SSMClient } = require('@aws-sdk/client-ssm');
    const profile = this.options['aws-profile'];
    const client = new SSMClient({ region: provider.getRegion(), ...(profile ? { profile } : {}) });
    // Each document exists, and takes every parameter its rules pass.
    const problems = await tsRequire('functions/onAlarm/runbookDocuments.ts').runbookDocumentProblems(
      client,
      onAlarmDeployment.configuredRunbooks(stageConfig),
    );
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `ops-autopilot: a runbook in config/stages.ts cannot start: ${problems.join('; ')}`,
      );
    }
    this.log?.notice?.(
      `ops-autopilot: runbook documents found: ${documents.join(', ') || 'none configured'}`,
    );
  }

  /** `sls package` runs offline: it says what it could not check. */
  sayDocumentsNotChecked() {
    const commands = this.serverless.processedInput?.commands ?? [];
    if (commands[0] !== 'package') return;
    this.log?.notice?.(
      'ops-autopilot: runbook documents not checked (offline package); sls deploy checks them with ssm:DescribeDocument',
    );
    // AWS-owned documents' parameter names were checked with the configuration; others wait for deploy.
    const provider = this.serverless.getProvider('aws');
    const deferred = loadOnAlarmDeployment().runbookDocumentsCheckedAtDeploy(
      this.stageConfigOnce(provider.getStage()),
    );
    if (deferred.length > 0) {
      this.log?.notice?.(
        `ops-autopilot: runbook parameters of ${deferred.join(', ')} not checked (not an AWS-owned document this project knows); sls deploy checks them with ssm:DescribeDocument`,
      );
    }
  }

  /** Each registered function's role and alarms, the forward rules and the dashboard, into the compiled template. */
  addFunctionResources() {
    const provider = this.serverless.getProvider('aws');
    const stage = provider.getStage();
    const stageConfig = this.stageConfigOnce(stage);
    const target = this.stackTargetOf(stage, provider.getRegion(), stageConfig);
    const registry = loadRegistry();
    const lambdaIds = new Map(registry.map(({ name }) => [name, provider.naming.getLambdaLogicalId(name)]));
    // serverless.yml's own resources (the queue alarms) are merged after this hook: the dashboard shows them too.
    loadStack().addFunctionResources(
      target,
      registry,
      stageConfig,
      this.compiledResources(),
      lambdaIds,
      this.serverless.service.resources?.Resources,
    );
  }

  /** Where the stack goes; an organization's stage refuses a region other than its home region. */
  stackTargetOf(stage, region, stageConfig) {
    try {
      return loadStack().stackTarget(stage, region, ROOT, stageConfig);
    } catch (error) {
      throw new this.serverless.classes.Error(`ops-autopilot: config/stages.ts: ${error.message}`);
    }
  }

  compiledResources() {
    return this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
  }
}

module.exports = OpsConfigPlugin;
