import {
  gatherIdleStops,
  gatherIdleScan as gatherOwnAccount,
  type IdleStopsGathered,
  gatherPermissions as idleScanReads,
} from '#shared/idle/gather.ts';
import { type UnfinishedFanIn, unfinishedFanIns } from '#shared/organization/scanSweep.ts';
import { type ScanTarget, servedTargets, targetClients } from '#shared/organization/scanTargets.ts';
import type { Observation } from '#shared/runtime/functionSpec.ts';
import type { IdleRun, IdleScanConfig } from './settings.ts';

/** What a run read: the fleet it judges, or (an organization's scheduled run) the targets to queue. */
export type IdleScanGathered =
  | IdleStopsGathered
  | { fanOut: ScanTarget[]; unfinished: UnfinishedFanIn[]; leftOut: number };

export const gatherPermissions = idleScanReads;

/**
 * Read-only. An organization's scheduled run reads which (account, region) targets it serves; a
 * worker's run scans its target with that target's clients; any other run scans this account.
 */
export async function gatherIdleScan(
  input: Observation<IdleRun> & { config: IdleScanConfig },
): Promise<IdleScanGathered> {
  const { signal, facts: run, config } = input;
  if (run.fanOut && config.organization) {
    // The sweep reads the earlier runs' unfinished fan-in records as of this run's scheduled time.
    const [fanOut, swept] = await Promise.all([
      servedTargets({
        stage: config.stage,
        organization: config.organization,
        centralAccount: signal.account,
      }),
      unfinishedFanIns(signal.occurredAt, signal.correlationId),
    ]);
    return { fanOut, ...swept };
  }
  if (run.target) {
    const { account, region } = run.target;
    const clients = await targetClients({ account, region });
    return gatherIdleStops({
      run: signal.correlationId,
      scope: run.scope,
      policy: run.policy,
      maxStopsPerHour: run.maxStopsPerHour,
      clients,
    });
  }
  return gatherOwnAccount(input);
}
