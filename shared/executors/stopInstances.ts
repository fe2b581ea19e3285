import type { RuntimeConfig } from '#shared/config.ts';
import type { InstanceToStop, StopInstancesIntent } from '#shared/domain/intent.ts';
import { done, failed, type Outcome, skipped } from '#shared/domain/outcome.ts';
import { truncated } from '#shared/domain/text.ts';
import type { settings as idleStopSettings } from '#shared/idle/stageSettings.ts';
import { claimStops, type StopClaim } from '#shared/state/stopRun.ts';
import type { MutatingExecutor } from './types.ts';

/** Instances per StopInstances call: small enough that one refusal costs few single retries. */
export const STOP_BATCH_SIZE = 50;
/** CreateTags takes at most 1000 resource ids per call (EC2 API reference, CreateTags). */
export const TAG_BATCH_SIZE = 1000;
/** EC2 tag values hold at most 256 characters. */
export const TAG_VALUE_LIMIT = 256;
export const STOPPED_BY = 'ops-autopilot';
/** The rate guard's rule for idle stops (a stage may override its limit under `rateGuard.rules`). */
export const IDLE_STOP_RULE = 'idle-stop';

/** `protected`: StopInstances refused it for its stop protection (disableApiStop): not a failure. */
type InstanceResult = { stopped: true } | { stopped: false; error: Error; protected: boolean };

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** The EC2 client and calls, loaded on the first stop (shared/aws/ec2Actions.ts says why). */
const ec2Actions = () => import('#shared/aws/ec2Actions.ts');

type Ec2Sender = Awaited<ReturnType<typeof ec2Actions>>['ec2'];

/**
 * The EC2 client a stop uses: the target's on an organization's scan (the member's acting client, or
 * this account's in the target's region for the central account's own), this account's otherwise.
 */
async function ec2For(intent: StopInstancesIntent): Promise<Ec2Sender> {
  if (!intent.target) return (await ec2Actions()).ec2;
  const { targetClients } = await import('#shared/organization/scanTargets.ts');
  const { account, region } = intent.target;
  return (await targetClients({ account, region })).ec2;
}

/**
 * The instance a StopInstances refusal names, when it is one of `ids`: EC2 fails the whole call for one
 * refuser and names it ("The instance 'i-…' may not be stopped. Modify its 'disableApiStop' instance
 * attribute and try again.", https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-stop-protection.html).
 */
function refuserOf(error: Error, ids: readonly string[]): string | undefined {
  const named = error.message.match(/'(i-[0-9a-f]{8,17})'/)?.[1];
  return named !== undefined && ids.includes(named) ? named : undefined;
}

const isStopProtection = (error: Error): boolean =>
  error.name === 'OperationNotPermitted' && error.message.includes('disableApiStop');

/**
 * Stops optimistically, without reading stop protection first (DescribeInstanceAttribute reads one
 * instance a call). One refusal fails the whole call, so the batch is sent again without the instance
 * the refusal names: 1 + r calls for r refusers, instead of one call per instance. A refusal that names
 * none of the batch falls back to one call per instance, so each gets its own result. Stopping an
 * instance that is already stopping or stopped is a no-op, so a resend is safe.
 */
async function stopBatch(ec2: Ec2Sender, ids: string[]): Promise<Map<string, InstanceResult>> {
  const { StopInstancesCommand } = await ec2Actions();
  const results = new Map<string, InstanceResult>();
  let pending = [...ids];
  while (pending.length > 0) {
    try {
      await ec2.send(new StopInstancesCommand({ InstanceIds: pending }));
      for (const id of pending) results.set(id, { stopped: true });
      return results;
    } catch (thrown) {
      const error = asError(thrown);
      const refuser = pending.length === 1 ? pending[0] : refuserOf(error, pending);
      if (refuser === undefined) break;
      results.set(refuser, { stopped: false, error, protected: isStopProtection(error) });
      pending = pending.filter((id) => id !== refuser);
    }
  }
  for (const id of pending) {
    try {
      await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
      results.set(id, { stopped: true });
    } catch (thrown) {
      const error = asError(thrown);
      results.set(id, { stopped: false, error, protected: isStopProtection(error) });
    }
  }
  return results;
}

export const truncateTagValue = (value: string): string => truncated(value, TAG_VALUE_LIMIT);

/**
 * One tag value for the whole run (the rule and its thresholds), so a run's stops are tagged in one
 * CreateTags call per 1000 instances; each instance's own figures are in the action log.
 */
async function tagStopped(
  ec2: Ec2Sender,
  stopped: InstanceToStop[],
  tagReason: string,
  at: string,
): Promise<Map<string, Error>> {
  const { CreateTagsCommand } = await ec2Actions();
  const reason = truncateTagValue(tagReason);
  const failures = new Map<string, Error>();
  for (let from = 0; from < stopped.length; from += TAG_BATCH_SIZE) {
    const ids = stopped.slice(from, from + TAG_BATCH_SIZE).map((i) => i.instanceId);
    try {
      await ec2.send(
        new CreateTagsCommand({
          Resources: ids,
          Tags: [
            { Key: 'ops:stopped-by', Value: STOPPED_BY },
            { Key: 'ops:stopped-at', Value: at },
            { Key: 'ops:stop-reason', Value: reason },
          ],
        }),
      );
    } catch (error) {
      for (const id of ids) failures.set(id, asError(error));
    }
  }
  return failures;
}

const list = (ids: string[]): string => ids.join(', ');

const limitRefs = (ids: string[], limit: number): Record<string, string> =>
  Object.fromEntries(
    ids.map((id) => [id, `not stopped: the limit of ${limit} stops per rolling hour was reached`]),
  );

/** The ref of an instance whose stop protection refused the stop: reported as protected, not as a failure. */
export const STOP_PROTECTED_REF =
  'not stopped: stop protection is on (StopInstances refused: OperationNotPermitted)';

/**
 * Stops idle instances in batches and tags what it stopped. A refusal is reported for that instance
 * and does not hide the others' results; a stop-protected instance's refusal is its exclusion, not a
 * failure. It keeps the slot it claimed from the hourly limit, so the limit never counts fewer stops
 * than were attempted. Never called in dry-run (the runtime shows `preview`).
 */
/** A stop reads the idle stopper's settings (`idleStop`): every function that stops lists them. */
export type StopInstancesConfig = RuntimeConfig<readonly [typeof idleStopSettings]>;

export const stopInstancesExecutor: MutatingExecutor<StopInstancesIntent, StopInstancesConfig> = {
  kind: 'ec2.stop-instances',
  // The stop budget and stop run records; stopping and tagging are the statements its function grants
  // (shared/idle/statements.ts), in the scope that function stops.
  permissions: ['dynamodb:PutItem', 'dynamodb:GetItem'],
  mutates: true,
  // Batches of 50 with per-instance fallback and tagging: well within a minute for the hourly limit.
  budgetMs: 30_000,
  // One action per scan run: a retry of the run only finishes its own decision.
  rateGuard: (_intent, ctx) => ({ rule: IDLE_STOP_RULE, actionId: ctx.signal.correlationId }),
  // A dry run claims nothing from the hourly limit: it spends none of it.
  // Stop protection is learnt from the stop's refusal, so a dry run cannot know it and says so.
  preview: (intent) =>
    `stop ${intent.instances.length} instance(s): ${list(intent.instances.map((i) => i.instanceId))}; ` +
    'stop protection not read (a live run stops optimistically and reports a protected instance when it refuses)',
  async execute(intent, ctx): Promise<Outcome> {
    const planned = intent.instances.map((i) => i.instanceId);
    if (planned.length === 0) return skipped(intent.kind, 'nothing-to-do', 'no instance to stop');
    // The target's client first: an account it cannot act in claims nothing from the hourly limit.
    let ec2: Ec2Sender;
    try {
      ec2 = await ec2For(intent);
    } catch (error) {
      return failed(
        intent.kind,
        error,
        `no EC2 client for account ${intent.target?.account ?? 'of this run'}; nothing claimed, nothing stopped`,
      );
    }
    // Claimed before any stop: the rolling-hour limit holds across runs, and a retry only finishes its run.
    const limit = intent.maxStopsPerHour ?? ctx.config.idleStop.maxStopsPerHour;
    let claim: StopClaim;
    try {
      claim = await claimStops(
        intent.run ?? ctx.signal.correlationId,
        planned,
        limit,
        ctx.signal.correlationId,
      );
    } catch (error) {
      return failed(intent.kind, error, 'could not claim the stops from the hourly limit; nothing stopped');
    }
    if (claim.decidedBy) {
      // Another delivery of the same decision got there first: it stops them, once.
      return skipped(
        intent.kind,
        'nothing-to-do',
        `delivery ${claim.decidedBy} of this decision stops ${list([...(claim.decided ?? [])])}; this delivery stops nothing`,
      );
    }
    const { claimed, overLimit } = claim;
    const beyond = planned.filter((id) => !claimed.has(id) && !overLimit.includes(id));
    const ids = planned.filter((id) => claimed.has(id));
    const limitPart =
      overLimit.length > 0
        ? `the limit of ${limit} stops per rolling hour was reached, so ${list(overLimit)} stay running; `
        : '';
    // A retry re-plans a fleet its first attempt changed: what that attempt stopped is not running now.
    const earlier = [...claimed].filter((id) => !planned.includes(id));
    const earlierPart = earlier.length > 0 ? `an earlier attempt of this run stopped ${list(earlier)}; ` : '';
    if (ids.length === 0 && overLimit.length > 0) {
      return {
        ...skipped(intent.kind, 'capped', limitPart.replace(/; $/, '')),
        refs: limitRefs(overLimit, limit),
      };
    }
    if (ids.length === 0) {
      return skipped(
        intent.kind,
        'nothing-to-do',
        `${earlierPart}a retry may only finish that decision, so ${list(beyond)} stay running`,
      );
    }

    const refs: Record<string, string> = limitRefs(overLimit, limit);
    const results = new Map<string, InstanceResult>();
    for (let from = 0; from < ids.length; from += STOP_BATCH_SIZE) {
      for (const [id, r] of await stopBatch(ec2, ids.slice(from, from + STOP_BATCH_SIZE))) results.set(id, r);
    }
    const stopped = intent.instances.filter((i) => results.get(i.instanceId)?.stopped === true);
    for (const id of beyond) refs[id] = 'not stopped: not in the original decision of this run';
    for (const id of earlier) refs[id] = 'stopped by an earlier attempt of this run';
    const tagFailures = await tagStopped(ec2, stopped, intent.tagReason, new Date().toISOString());

    const problems: string[] = [];
    const refusedByProtection: string[] = [];
    let firstError: Error | undefined;
    for (const id of ids) {
      const r = results.get(id);
      if (r?.stopped === false && r.protected) {
        refs[id] = STOP_PROTECTED_REF;
        refusedByProtection.push(id);
      } else if (r?.stopped) {
        const tagError = tagFailures.get(id);
        refs[id] = tagError ? `stopped; not tagged: ${tagError.name}` : 'stopped';
        if (tagError) {
          problems.push(`${id} stopped but not tagged (${tagError.name})`);
          firstError ??= tagError;
        }
      } else {
        const error = r?.stopped === false ? r.error : new Error('no result');
        refs[id] = `failed: ${error.name}`;
        problems.push(`${id} (${error.name})`);
        firstError ??= error;
      }
    }
    const stoppedIds = stopped.map((i) => i.instanceId);
    // Each attempted instance's own figures: the action log keeps them, one entry per instance.
    const attempted = new Set(ids);
    const evidence = Object.fromEntries(
      intent.instances.filter((i) => attempted.has(i.instanceId)).map((i) => [i.instanceId, i.reason]),
    );
    const protectedPart =
      refusedByProtection.length > 0
        ? `; ${refusedByProtection.length} refused by stop protection (disableApiStop): ${list(refusedByProtection)}`
        : '';
    const stoppedPart = `${limitPart}${earlierPart}stopped ${stoppedIds.length} of ${ids.length} instance(s)${stoppedIds.length > 0 ? `: ${list(stoppedIds)}` : ''}${protectedPart}`;
    if (!firstError)
      return { ...done(intent.kind, `${stoppedPart}; tagged ops:stopped-by=${STOPPED_BY}`, refs), evidence };
    return {
      ...failed(intent.kind, firstError, `${stoppedPart}; failed: ${problems.join(', ')}`),
      refs,
      evidence,
    };
  },
};
