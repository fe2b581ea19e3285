'use strict';
/**
 * What `sls invoke local` needs to run this stack's functions offline, kept apart from the stack's
 * derivation (ops-config.cjs wires these to its hooks).
 */
const fs = require('node:fs');
const path = require('node:path');

class InvokeLocalWorkarounds {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options;
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
    const base = this.handlerBase();
    if (fs.existsSync(`${base}.mjs`) && !fs.existsSync(`${base}.cjs`)) {
      fs.writeFileSync(`${base}.cjs`, `module.exports = require('./${path.basename(base)}.mjs');\n`);
      this.bridge = `${base}.cjs`;
    }
  }

  /** The build folder is reused: a bridge left in it would be zipped into the next package. */
  removeEsmBridge() {
    if (this.bridge) fs.rmSync(this.bridge, { force: true });
  }

  handlerBase() {
    const fn = this.serverless.service.getFunction(this.options.function);
    return path.join(this.serverless.serviceDir, fn.handler.slice(0, fn.handler.lastIndexOf('.')));
  }

  /**
   * A handler that throws while it loads (a start-up error: STATE_TABLE_NAME unset, PAGE_TOPIC_ARN not
   * an ARN) aborts invoke local before serverless-esbuild disposes its build context, and esbuild's
   * service process would keep node alive after the error is printed. Stop it so the command exits
   * with osls's non-zero code; anything else left open gets a few seconds, then the process exits 1.
   */
  async exitInvokeLocalAfterError() {
    if (!this.isInvokeLocal()) return;
    this.removeEsmBridge();
    setTimeout(() => process.exit(1), 5000).unref();
    await require('esbuild').stop();
  }

  isInvokeLocal() {
    const commands = this.serverless.processedInput?.commands ?? [];
    return commands[0] === 'invoke' && commands[1] === 'local';
  }
}

module.exports = { InvokeLocalWorkarounds };
