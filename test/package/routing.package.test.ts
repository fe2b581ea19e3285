/** The packaged rules put into moto's EventBridge: every fixture reaches exactly the functions meant for it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '#functions/index.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { listFixtures, loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';
import { eventRules, ROOT, scheduledFunctions } from '../../tools/local/packaged.ts';
import { installRouter, isEventBridgeEvent, type Router } from '../../tools/local/routing.ts';
import { makeConfig } from '../support/config.ts';
import { type PackagedRun, packagedOnce } from '../support/packagedOnce.ts';
import {
  callByRole,
  forwardRules,
  functions,
  LOOKALIKE_ROLES,
  OWN_ROLE_NAMES,
} from '../support/packagedTemplate.ts';
import { UNROUTED } from '../support/unrouted.ts';

let packaged: PackagedRun;

beforeAll(async () => {
  packaged = await packagedOnce('dev');
}, 300_000);

describe('routing through the packaged rules', () => {
  let moto: Moto;
  let router: Router;

  const expectedFunctions = (fixture: string): string[] => {
    if (fixture in UNROUTED) return [];
    return [fixture.split('/')[0] as string];
  };

  beforeAll(async () => {
    moto = await startMoto();
    useMotoEnvironment(moto.endpoint);
    router = await installRouter(eventRules(packaged.template));
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const routable = listFixtures().filter((f) => isEventBridgeEvent(loadFixture(f)));

  it.each(functions)(
    'invokes %s from its own rule (its event pattern or its schedule), or from none when it is invoked by hand',
    (name, entry) => {
      // Arrange
      const { trigger } = entry.deployment;
      const byPattern = eventRules(packaged.template).filter((r) => r.functionName === name);
      // Assert
      if ('manual' in trigger) {
        // approveAction: a person invokes it; no rule of the stack routes an event to it.
        expect(byPattern).toEqual([]);
        expect(scheduledFunctions(packaged.template)).not.toContain(name);
        expect(router.functions).not.toContain(name);
      } else if (!('scheduleParam' in trigger)) {
        // A file (or the deployment's data) holds one pattern or several (one rule each, named <rule>, <rule>-2, ...).
        const file: unknown =
          'patterns' in trigger
            ? trigger.patterns
            : JSON.parse(readFileSync(join(ROOT, trigger.patternFile), 'utf8'));
        const patterns = Array.isArray(file) ? file : [file];
        expect(byPattern.map((r) => r.name)).toEqual(
          patterns.map((_, i) => `ops-autopilot-dev-${trigger.rule}${i === 0 ? '' : `-${i + 1}`}`),
        );
        // The file's patterns, with this stack's role names where the file asks for them.
        const stackRoles = JSON.stringify({ 'anything-but': OWN_ROLE_NAMES });
        expect(byPattern.map((r) => r.pattern)).toEqual(
          patterns.map((p) =>
            JSON.parse(JSON.stringify(p).replaceAll('{"anything-but":{"stackRoleNames":true}}', stackRoles)),
          ),
        );
        expect(router.functions).toContain(name);
      } else {
        expect(byPattern).toEqual([]);
        expect(scheduledFunctions(packaged.template)).toContain(name);
      }
    },
  );

  it('has fixtures for registered functions only, each with its sample', () => {
    // Arrange
    const folders = new Set(listFixtures().map((f) => f.split('/')[0]));
    // Assert
    expect([...folders].sort()).toEqual(registry.map((e) => e.name).sort());
    for (const { deployment } of registry) expect(listFixtures()).toContain(deployment.sampleFixture);
  });

  it('has fixtures to route', () => {
    expect(routable.length).toBeGreaterThanOrEqual(10);
  });

  it.each(routable)('delivers %s to exactly the functions meant for it', async (fixture) => {
    // Act
    const reached = await router.route(loadFixture(fixture));
    // Assert
    expect(reached).toEqual(expectedFunctions(fixture));
  });

  it("never routes the stack's own alarms back into onAlarm", async () => {
    // Act
    const reached = await router.route(makeAlarmEvent({ alarmName: 'ops-autopilot-dev-onAlarm-errors' }));
    // Assert
    expect(reached).toEqual([]);
  });

  it("never routes a failed call, or a call by this stack's own roles, into onCloudTrail", async () => {
    // Arrange
    const opened = loadFixture<{ detail: Record<string, unknown> }>(
      'onCloudTrail/security-group-open-world.json',
    );
    const failed = structuredClone(opened);
    failed.detail.errorCode = 'Client.InvalidPermission.Duplicate';
    // Act
    const reached = {
      opened: await router.route(opened),
      failed: await router.route(failed),
      ownRole: await router.route(loadFixture('onCloudTrail/security-group-open-world-by-own-role.json')),
    };
    // Assert
    expect(reached).toEqual({ opened: ['onCloudTrail'], failed: [], ownRole: [] });
  });

  it("never routes a call by any of this stack's own function roles into onCloudTrail, so no remediation triggers itself", async () => {
    // Act
    const reached: string[][] = [];
    for (const role of OWN_ROLE_NAMES) {
      reached.push(await router.route(callByRole('onCloudTrail/security-group-open-world.json', role)));
    }
    // Assert
    expect(OWN_ROLE_NAMES).toContain('ops-autopilot-dev-on-cloudtrail-us-east-1');
    expect(reached).toEqual(OWN_ROLE_NAMES.map(() => []));
  });

  it("routes a world-open security group by a role only named like this stack's (a backdoor, another stage's or region's) into onCloudTrail, which pages it", async () => {
    // Arrange
    const config = makeConfig();
    const site = { requestId: 'r-1', account: '123456789012', region: 'us-east-1' };
    const outcome: Record<string, { reached: string[]; pages: number }> = {};
    // Act
    for (const role of LOOKALIKE_ROLES) {
      const event = callByRole('onCloudTrail/security-group-open-world.json', role);
      const observation = observeCloudTrail(CloudTrailEvent.parse(event), { config, site });
      const plan = planCloudTrail({ ...observation, gathered: {}, config });
      outcome[role] = {
        reached: await router.route(event),
        pages: plan.intents.filter((i) => i.kind === 'sns.page').length,
      };
    }
    // Assert
    expect(outcome).toEqual(
      Object.fromEntries(LOOKALIKE_ROLES.map((role) => [role, { reached: ['onCloudTrail'], pages: 1 }])),
    );
  });

  it("forwards from us-east-1 an admin grant by a role only named like this stack's, and no call by this stack's own roles", async () => {
    // Arrange: the forward rules on the same bus, a queue standing in for the home region's bus.
    const forwarder = await installRouter(forwardRules(packaged.template));
    const admin = 'onCloudTrail/iam-attach-admin-to-role.json';
    // Act
    const lookalikes: string[][] = [];
    for (const role of LOOKALIKE_ROLES) lookalikes.push(await forwarder.route(callByRole(admin, role)));
    const own: string[][] = [];
    for (const role of OWN_ROLE_NAMES) own.push(await forwarder.route(callByRole(admin, role)));
    // Assert
    expect(forwardRules(packaged.template)).toHaveLength(
      eventRules(packaged.template).filter((r) => r.functionName === 'onCloudTrail').length,
    );
    expect(lookalikes).toEqual(LOOKALIKE_ROLES.map(() => ['forward-global-events']));
    expect(own).toEqual(OWN_ROLE_NAMES.map(() => []));
    // The same events reached onCloudTrail's rule too: empty its queue for the next tests.
    await router.route(loadFixture('onAlarm/invalid/wrong-detail-type.json'));
  });

  it('routes the results of automation executions to onRunbookResult, and no step event or other status', async () => {
    // Arrange
    const sample = loadFixture<{ 'detail-type': string; detail: Record<string, unknown> }>(
      'onRunbookResult/execution-success.json',
    );
    const withStatus = (status: string, detailType = sample['detail-type']) => {
      const event = structuredClone(sample);
      event['detail-type'] = detailType;
      event.detail.Status = status;
      return event;
    };
    const results = ['Failed', 'TimedOut', 'Cancelled', 'Success'];
    const others = ['Pending', 'InProgress', 'Waiting', 'Cancelling', 'Approved', 'Rejected', 'Exited'];
    // Act
    // One at a time: each route reads every function's queue.
    const reached = async (events: Record<string, unknown>[]) => {
      const out: string[][] = [];
      for (const e of events) out.push(await router.route(e));
      return out;
    };
    const routed = {
      results: await reached(results.map((s) => withStatus(s))),
      others: await reached(others.map((s) => withStatus(s))),
      steps: await reached(
        results.map((s) => withStatus(s, 'EC2 Automation Step Status-change Notification')),
      ),
    };
    // Assert
    expect(routed).toEqual({
      results: results.map(() => ['onRunbookResult']),
      others: others.map(() => []),
      steps: results.map(() => []),
    });
  });

  it('routes to onBackupFailure only failed, aborted, expired and completed-with-issues jobs', async () => {
    // Arrange: each job type in every state AWS Backup reports, with and without a status message.
    const base = {
      backup: loadFixture<{ detail: Record<string, unknown> }>('onBackupFailure/backup-job-failed-ebs.json'),
      copy: loadFixture<{ detail: Record<string, unknown> }>('onBackupFailure/copy-job-failed.json'),
      restore: loadFixture<{ detail: Record<string, unknown> }>('onBackupFailure/restore-job-failed.json'),
    };
    const states = ['CREATED', 'PENDING', 'RUNNING', 'ABORTING', 'COMPLETED', 'FAILED', 'ABORTED', 'EXPIRED'];
    const reached: string[] = [];
    // Act
    for (const [type, event] of Object.entries(base)) {
      const field = type === 'restore' ? 'status' : 'state';
      for (const state of states) {
        for (const message of [undefined, 'Windows VSS Backup Job Error encountered']) {
          const variant = structuredClone(event);
          variant.detail[field] = state;
          if (message === undefined) delete variant.detail.statusMessage;
          else variant.detail.statusMessage = message;
          if ((await router.route(variant)).includes('onBackupFailure')) {
            reached.push(`${type} ${state}${message ? ' with a message' : ''}`);
          }
        }
      }
    }
    // Assert: "completed with issues" is a backup (and copy) job state; restores page on failure only.
    const failures = ['FAILED', 'ABORTED', 'EXPIRED'];
    expect(reached.sort()).toEqual(
      [
        ...['backup', 'copy', 'restore'].flatMap((t) =>
          failures.flatMap((s) => [`${t} ${s}`, `${t} ${s} with a message`]),
        ),
        'backup COMPLETED with a message',
        'copy COMPLETED with a message',
      ].sort(),
    );
  });

  it('does not route an alarm configuration change', async () => {
    // Act
    const reached = await router.route(loadFixture('onAlarm/invalid/wrong-detail-type.json'));
    // Assert
    expect(reached).toEqual([]);
  });
});
