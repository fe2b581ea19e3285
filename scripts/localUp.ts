/**
 * `npm run local:up [-- --port 5055 --stage dev]`: a local AWS (moto_server on loopback) holding the
 * stack's state table (shared/state/tableDefinition.ts, as deployed) and paging topic, with a queue subscribed
 * to read the pages (`npm run local:pages`). Prints the `export` lines that make the README's
 * `sls invoke local` commands run against it, and stays in the foreground until Ctrl-C.
 */
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import {
  SAMPLE_ALARM_INSTANCE,
  SAMPLE_EXECUTION,
  seedSampleBackupVault,
  seedSampleExecution,
  seedSampleInstances,
} from '../tools/local/localSamples.ts';
import { createLocalStack } from '../tools/local/localStack.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../tools/local/moto.ts';

export const DEFAULT_LOCAL_PORT = 5055;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.LOCAL_PORT ?? String(DEFAULT_LOCAL_PORT) },
    stage: { type: 'string', default: 'dev' },
  },
});
const port = Number(values.port);
const stage = values.stage;

function portIsFree(candidate: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function main(): Promise<number> {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    console.error(`local:up: --port must be a TCP port; got "${values.port}"`);
    return 2;
  }
  if (!/^[a-z0-9]+$/.test(stage)) {
    console.error(`local:up: --stage must be a stage of config/stages.ts such as dev; got "${stage}"`);
    return 2;
  }
  // Another emulator on the port would answer for the one started here: refuse instead.
  if (!(await portIsFree(port))) {
    console.error(`local:up: 127.0.0.1:${port} is in use; try npm run local:up -- --port ${port + 1}`);
    return 2;
  }
  let moto: Moto & { instanceIdsFixed: boolean };
  try {
    moto = await startMoto(port, { instanceIds: [SAMPLE_ALARM_INSTANCE] });
  } catch (error) {
    console.error(
      `local:up: cannot start moto_server on 127.0.0.1:${port} (in use? try npm run local:up -- --port ${port + 1}).\n${(error as Error).message}`,
    );
    return 2;
  }
  const stop = async () => {
    await moto.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Dummy credentials: moto accepts any, and the SDK needs some to sign its requests.
  useMotoEnvironment(moto.endpoint);
  const stack = await createLocalStack(`ops-autopilot-${stage}`);
  // What the README's sample events name, so each invoke decides something (tools/local/localSamples.ts).
  process.env.STAGE = stage;
  process.env.STATE_TABLE_NAME = stack.tableName;
  const instances = await seedSampleInstances();
  await seedSampleExecution();
  await seedSampleBackupVault();
  const exports = {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    STATE_TABLE_NAME: stack.tableName,
    PAGE_TOPIC_ARN: stack.topicArn,
    // Only a live run (DRY_RUN=false) starts a runbook; moto has no SSM Automation, so it fails visibly.
    AUTOMATION_ROLE_ARN: `arn:aws:iam::123456789012:role/ops-autopilot-${stage}-runbooks-us-east-1`,
  };
  console.log(
    `# ops-autopilot ${stage}: moto_server (pid ${moto.pid}) on ${moto.endpoint}, table and topic created.`,
  );
  console.log(
    `# Seeded for the sample events: alarm instance ${instances.alarmInstance} (opted in to remediation), ` +
      `idle instances ${instances.idle.join(', ')}, runbook execution ${SAMPLE_EXECUTION}, the failed job's backup vault.`,
  );
  if (!moto.instanceIdsFixed || instances.alarmInstance !== SAMPLE_ALARM_INSTANCE) {
    console.log(
      `# (no Python beside moto_server to give the alarm's instance the id ${SAMPLE_ALARM_INSTANCE}: the onAlarm sample reads no instance)`,
    );
  }
  console.log('# Paste into the shell you run `npx sls invoke local` from:');
  for (const [name, value] of Object.entries(exports)) console.log(`export ${name}=${value}`);
  console.log(`# Pages sent: npm run local:pages${stage === 'dev' ? '' : ` -- --stage ${stage}`}`);
  // On a shared machine `pkill -f moto_server` would end everyone's emulators: name this one.
  console.log(
    `# From another shell: kill ${process.pid} (stops this local:up and its moto_server, and no other emulator).`,
  );
  console.log('# Ctrl-C stops the emulator (its data is gone with it).');
  // Held open by moto's child process until a signal stops it.
  return new Promise<number>(() => undefined);
}

process.exitCode = await main();
