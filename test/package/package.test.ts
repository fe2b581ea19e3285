import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stages } from '#config/stages.ts';
import { RESERVED_CONCURRENCY_CAP, registry } from '#functions/index.ts';
import { planCloudTrail } from '#functions/onCloudTrail/plan.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { observeCloudTrail } from '#functions/onCloudTrail/signal.ts';
import { parseStageConfig } from '#shared/config.ts';
import { listFixtures, loadFixture, makeAlarmEvent } from '../../tools/local/events.ts';
import { createLocalStack } from '../../tools/local/localStack.ts';
import { type Moto, startMoto, useMotoEnvironment } from '../../tools/local/moto.ts';
import {
  dashboardOf,
  eventRules,
  functionLogicalId,
  type Packaged,
  type PackagedRule,
  packageStack,
  ROOT,
  runSls,
  scheduledFunctions,
  selfAlarms,
  type Template,
  wouldAlarm,
} from '../../tools/local/packaged.ts';
import { installRouter, isEventBridgeEvent, type Router } from '../../tools/local/routing.ts';
import { makeConfig } from '../support/config.ts';
import { UNROUTED } from '../support/unrouted.ts';

const run = promisify(execFile);
const RESTART_DEFINITION =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
  'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:automation-definition/AWS-RestartEC2Instance:*';
const KILL_SWITCH_PARAMETER =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
  'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/ops-autopilot/dev/mode';
let packaged: Packaged;
/** The account's hourly stop budget on the dev stage: the one state-table key two roles share. */
const SHARED_STOP_BUDGET = 'ops-autopilot-dev#shared#stop-budget';

beforeAll(async () => {
  packaged = await packageStack('dev');
}, 180_000);

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

function roleStatements(template: Template, roleId: string): Statement[] {
  const role = template.Resources[roleId];
  const policies = (role?.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((p) => p.PolicyDocument.Statement);
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

const functions = registry.map((entry) => [entry.name, entry] as const);

function roleOf(template: Template, fn: string): Statement[] {
  const resource = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.FunctionName).endsWith(`-${fn}`),
  );
  const roleId = (resource?.Properties.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.[
    'Fn::GetAtt'
  ][0];
  if (!roleId) throw new Error(`no function ${fn} in the template`);
  return roleStatements(template, roleId);
}

/** The roles this stack gives its functions on the dev stage in us-east-1, as the rules must exclude them. */
const OWN_ROLE_NAMES = registry.map(({ deployment }) => `ops-autopilot-dev-${deployment.roleName}-us-east-1`);

/** The global-events forward rules (us-east-1 to the home region's bus), in order. */
function forwardRules(template: Template): PackagedRule[] {
  return Object.entries(template.Resources)
    .filter(([id, r]) => r.Type === 'AWS::Events::Rule' && id.startsWith('GlobalEventsForwardRule'))
    .map(([logicalId, r]) => ({
      logicalId,
      name: String(r.Properties.Name),
      functionName: 'forward-global-events',
      pattern: r.Properties.EventPattern as Record<string, unknown>,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A CloudTrail fixture made by an assumed-role session of the role named `role`. */
function callByRole(fixture: string, role: string) {
  const event = loadFixture<{
    detail: { userIdentity: { arn?: string; sessionContext?: { sessionIssuer?: Record<string, string> } } };
  }>(fixture);
  const identity = event.detail.userIdentity;
  identity.arn = `arn:aws:sts::123456789012:assumed-role/${role}/session`;
  identity.sessionContext = {
    ...identity.sessionContext,
    sessionIssuer: {
      type: 'Role',
      principalId: 'AROAEXAMPLEROLEID1234',
      arn: `arn:aws:iam::123456789012:role/${role}`,
      accountId: '123456789012',
      userName: role,
    },
  };
  return event;
}

/** Roles named like this stack's that are not its roles: a backdoor, another stage's, another region's. */
const LOOKALIKE_ROLES = [
  'ops-autopilot-backdoor',
  'ops-autopilot-dev-x',
  'ops-autopilot-prod-on-cloudtrail-us-east-1',
  'ops-autopilot-dev-on-cloudtrail-eu-west-1',
  'ops-autopilot-dev-on-cloudtrail-us-east-1-backdoor',
];

/** Every EventBridge rule that invokes one of the functions (pattern or schedule), by name. */
function functionRuleNames(template: Template): string[] {
  return Object.values(template.Resources)
    .filter(
      (r) =>
        r.Type === 'AWS::Events::Rule' &&
        JSON.stringify(r.Properties.Targets ?? []).includes('LambdaFunction'),
    )
    .map((r) => String(r.Properties.Name));
}

describe('the packaged template', () => {
  it('passes cfn-lint with no findings', async () => {
    // Act
    const result = await run('cfn-lint', [packaged.templatePath]).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code?: number | string; stdout?: string; stderr?: string }) => ({
        code: e.code,
        out: `${e.stdout}${e.stderr}`,
      }),
    );
    // Assert
    expect(result.out).toBe('');
    expect(result.code).toBe(0);
  });

  it("limits each function's state-table access to the records it owns (keys starting with its name)", () => {
    // Arrange
    const functions = Object.values(packaged.template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && typeof r.Properties.FunctionName === 'string',
    );
    // Assert
    expect(functions.length).toBeGreaterThanOrEqual(2);
    for (const fn of functions) {
      const name = String(fn.Properties.FunctionName);
      const statements = roleOf(packaged.template, name.split('-').pop() as string);
      // DescribeTable reads a table's metadata, no records (onBackupFailure: does a backed-up table
      // still exist?): its statement holds nothing else, so every record access is still held below.
      const metadataOnly = (st: Statement) => actionsOf([st]).every((a) => a === 'dynamodb:DescribeTable');
      const dynamo = statements.filter(
        (st) => actionsOf([st]).some((a) => a.startsWith('dynamodb:')) && !metadataOnly(st),
      );
      expect(dynamo.length, name).toBeGreaterThan(0);
      // Its own records, or records shared by name: the stop budget (exact key) and the runbook
      // execution records (their prefix); the next tests hold who may touch them.
      for (const st of dynamo.filter((d) => d.Sid !== 'SharedStateAutomation')) {
        const condition = (st as Statement & { Condition?: unknown }).Condition;
        expect(condition, `${name} ${st.Sid}`).toEqual(
          st.Sid === 'SharedState'
            ? { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARED_STOP_BUDGET] } }
            : { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${name}#*`] } },
        );
      }
    }
  });

  it('shares the runbook execution records: onAlarm writes them, onRunbookResult reads and updates them, on exactly their prefix, no other function', () => {
    // Arrange
    const shared = (fn: string) =>
      roleOf(packaged.template, fn).filter((st) =>
        JSON.stringify((st as Statement & { Condition?: unknown }).Condition ?? {}).includes(
          '#shared#automation#',
        ),
      );
    const condition = {
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ops-autopilot-dev#shared#automation#*'] },
    };
    // Assert
    expect(shared('onAlarm')).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        Condition: condition,
      }),
    ]);
    expect(shared('onRunbookResult')).toEqual([
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
        Condition: condition,
      }),
    ]);
    for (const [name] of functions.filter(([n]) => n !== 'onAlarm' && n !== 'onRunbookResult')) {
      expect(shared(name), name).toEqual([]);
    }
  });

  it('gives stopIdleInstances and onCostAnomaly one stop budget: exactly its shared key, read and put, no other function', () => {
    // Arrange
    const sharedOf = (fn: string) =>
      roleOf(packaged.template, fn).filter((st) => st.Sid === 'SharedState') as (Statement & {
        Condition?: unknown;
      })[];
    // Assert
    for (const fn of ['stopIdleInstances', 'onCostAnomaly']) {
      const [shared, ...more] = sharedOf(fn);
      expect(more, fn).toEqual([]);
      expect(shared?.Action, fn).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
      expect(shared?.Resource, fn).toEqual({ 'Fn::GetAtt': ['StateTable', 'Arn'] });
      expect(shared?.Condition, fn).toEqual({
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [SHARED_STOP_BUDGET] },
      });
    }
    for (const { name } of registry.filter((e) => !['stopIdleInstances', 'onCostAnomaly'].includes(e.name))) {
      expect(sharedOf(name), name).toEqual([]);
    }
  });

  it('lets onCostAnomaly stop and tag only opted-in instances when the stage turns stopping on', () => {
    // Arrange
    const allowed = roleOf(packaged.template, 'onCostAnomaly').filter((st) => st.Effect === 'Allow');
    const conditionOf = (action: string) =>
      (allowed.find((st) => actionsOf([st]).includes(action)) as Statement & { Condition?: unknown })
        ?.Condition;
    // Assert
    expect(stages.dev?.costAnomaly?.stopIdle?.enabled).toBe(true);
    expect(conditionOf('ec2:StopInstances')).toEqual({
      StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' },
    });
    expect(conditionOf('ec2:CreateTags')).toEqual({
      StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' },
    });
  });

  it("keeps every rule's event pattern within EventBridge's default 2,048 characters", () => {
    // Arrange
    const rules = Object.values(packaged.template.Resources).filter(
      (r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern !== undefined,
    );
    // Assert
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const rule of rules) {
      const size = JSON.stringify(rule.Properties.EventPattern).length;
      expect(size, String(rule.Properties.Name)).toBeLessThanOrEqual(2048);
    }
  });

  it('gives every EventBridge target a retry policy and the dead-letter queue', () => {
    // Arrange
    const rules = Object.values(packaged.template.Resources).filter((r) => r.Type === 'AWS::Events::Rule');
    // Assert
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      for (const target of rule.Properties.Targets as Record<string, unknown>[]) {
        expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number) });
        expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } });
      }
    }
  });

  it("sends every function's failed asynchronous invocations to the failure queue", () => {
    // Arrange
    const resources = packaged.template.Resources;
    const functions = Object.keys(resources).filter((id) => resources[id]?.Type === 'AWS::Lambda::Function');
    const configs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig');
    // Assert
    for (const fn of functions) {
      const config = configs.find((c) => (c.Properties.FunctionName as { Ref: string }).Ref === fn);
      expect(config?.Properties.DestinationConfig).toEqual({
        OnFailure: { Destination: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] } },
      });
    }
  });

  it('reserves concurrency for every function, within the documented cap, leaving the account its unreserved pool', () => {
    // Arrange
    const lambdas = Object.values(packaged.template.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function',
    );
    // Act
    const reserved = lambdas.map((r) => r.Properties.ReservedConcurrentExecutions);
    const total = reserved.reduce((sum: number, n) => sum + Number(n), 0);
    // Assert
    expect(lambdas).toHaveLength(registry.length);
    for (const n of reserved) {
      expect(Number.isInteger(n)).toBe(true);
      expect(n).toBeGreaterThanOrEqual(1);
    }
    expect(total).toBeLessThanOrEqual(RESERVED_CONCURRENCY_CAP);
    // Lambda keeps at least 100 of the default 1,000 unreserved.
    expect(1000 - RESERVED_CONCURRENCY_CAP).toBeGreaterThanOrEqual(100);
  });

  it.each(functions)("lets %s read the stage's kill switch parameter, and no other parameter", (name) => {
    // Arrange
    const statements = roleOf(packaged.template, name).filter((st) =>
      actionsOf([st]).some((a) => a.startsWith('ssm:GetParameter')),
    );
    // Assert
    expect(statements).toEqual([
      {
        Sid: 'KillSwitch',
        Effect: 'Allow',
        Action: 'ssm:GetParameter',
        Resource: {
          'Fn::Sub': KILL_SWITCH_PARAMETER,
        },
      },
    ]);
  });

  it('gives each function a role of its own with no wildcard action', () => {
    // Arrange
    const resources = packaged.template.Resources;
    const roles = Object.values(resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => (r.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    // Assert
    expect(new Set(roles).size).toBe(roles.length);
    for (const role of roles) {
      for (const action of actionsOf(roleStatements(packaged.template, role))) {
        expect(action).not.toMatch(/(^\*$|:\*$)/);
      }
    }
  });

  it.each(functions)(
    'grants %s exactly the actions it declares (runtime, gather, executors): none missing, none left over',
    async (name, entry) => {
      // Arrange
      const declared = await entry.permissions(parseStageConfig('dev', stages.dev));
      // Act
      const granted = actionsOf(roleOf(packaged.template, name).filter((st) => st.Effect === 'Allow'));
      // Assert
      expect([...new Set(granted)].sort()).toEqual(declared);
    },
  );

  it('lets onAlarm start only the runbooks the stage configures, as the runbook role alone, and no other function start any', () => {
    // Arrange
    const startersOf = (fn: string) =>
      roleOf(packaged.template, fn).filter((s) => actionsOf([s]).includes('ssm:StartAutomationExecution'));
    const onAlarm = roleOf(packaged.template, 'onAlarm');
    const pass = onAlarm.find((s) => actionsOf([s]).includes('iam:PassRole'));
    // Assert
    expect(startersOf('onAlarm').map((s) => s.Resource)).toEqual([[{ 'Fn::Sub': RESTART_DEFINITION }]]);
    expect(pass?.Resource).toEqual({ 'Fn::GetAtt': ['RunbookAutomationRole', 'Arn'] });
    for (const { name } of registry.filter((e) => e.name !== 'onAlarm')) {
      expect(startersOf(name), name).toEqual([]);
    }
  });

  it('lets stopIdleInstances stop and tag only instances in scope, and mutate nothing else in EC2', () => {
    // Arrange
    const statements = roleOf(packaged.template, 'stopIdleInstances');
    const allowed = statements.filter((st) => st.Effect === 'Allow');
    const ec2Actions = actionsOf(allowed).filter((a) => a.startsWith('ec2:'));
    const stop = allowed.find((st) => actionsOf([st]).includes('ec2:StopInstances')) as Statement & {
      Condition?: unknown;
    };
    const tagDeny = statements.find(
      (st) => st.Effect === 'Deny' && actionsOf([st]).includes('ec2:CreateTags'),
    );
    // Assert
    expect(ec2Actions.sort()).toEqual([
      'ec2:CreateTags',
      'ec2:DescribeInstanceAttribute',
      'ec2:DescribeInstances',
      'ec2:StopInstances',
    ]);
    expect(stop.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' } });
    const tag = allowed.find((st) => actionsOf([st]).includes('ec2:CreateTags')) as Statement & {
      Condition?: unknown;
    };
    expect(tag.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/ops:auto-stop': 'true' } });
    expect(JSON.stringify(tagDeny)).toContain('ops:stop-reason');
    expect(actionsOf(allowed)).not.toContain('ssm:StartAutomationExecution');
  });

  it('lets the runbooks stop and start only instances carrying the opt-in tag, and onAlarm only read tags', () => {
    // Arrange
    const runbookRole = roleStatements(packaged.template, 'RunbookAutomationRole').filter(
      (st) => st.Effect === 'Allow',
    );
    const mutating = runbookRole.filter((st) =>
      actionsOf([st]).some((a) => a === 'ec2:StopInstances' || a === 'ec2:StartInstances'),
    ) as (Statement & { Condition?: unknown })[];
    const onAlarmActions = actionsOf(roleOf(packaged.template, 'onAlarm'));
    // Assert
    expect(mutating).toHaveLength(1);
    expect(mutating[0]?.Condition).toEqual({
      StringEquals: { 'aws:ResourceTag/ops:auto-remediate': 'true' },
    });
    // The target's tags come from the Tagging API: onAlarm itself has no EC2 action at all.
    expect(onAlarmActions.filter((a) => a.startsWith('ec2:'))).toEqual([]);
    expect(onAlarmActions.filter((a) => a.startsWith('tag:'))).toEqual(['tag:GetResources']);
  });

  it("lets onBackupFailure start backups only into this account's vaults, passing roles only to AWS Backup", () => {
    // Arrange
    const allowed = roleOf(packaged.template, 'onBackupFailure').filter((st) => st.Effect === 'Allow');
    const find = (action: string) =>
      allowed.find((st) => actionsOf([st]).includes(action)) as Statement & { Condition?: unknown };
    // Assert
    expect(find('backup:StartBackupJob').Resource).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
      'Fn::Sub': 'arn:${AWS::Partition}:backup:${AWS::Region}:${AWS::AccountId}:backup-vault:*',
    });
    expect(find('iam:PassRole').Resource).toEqual({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
      'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*',
    });
    expect(find('iam:PassRole').Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' },
    });
  });

  it("forwards IAM, STS, sign-in and Organizations events from us-east-1 to the home region's bus only when asked, filtered like onCloudTrail's rule", () => {
    // Arrange
    const resources = packaged.template.Resources;
    const rules = [resources.GlobalEventsForwardRule, resources.GlobalEventsForwardRule2];
    const rule = rules[0];
    const condition = (packaged.template as unknown as { Conditions: Record<string, unknown> }).Conditions
      .ForwardGlobalEvents;
    const onCloudTrail = eventRules(packaged.template)
      .filter((r) => r.functionName === 'onCloudTrail')
      .map((r) => r.pattern);
    // Assert
    expect(rule?.Condition).toBe('ForwardGlobalEvents');
    expect(resources.GlobalEventsForwardRole?.Condition).toBe('ForwardGlobalEvents');
    expect(condition).toEqual({
      'Fn::And': [
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] },
        { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'GlobalEventsHomeRegion' }, ''] }] },
        { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'GlobalEventsHomeRegion' }, 'us-east-1'] }] },
      ],
    });
    expect(rules.map((r) => r?.Condition)).toEqual(['ForwardGlobalEvents', 'ForwardGlobalEvents']);
    expect(rules.map((r) => r?.Properties.EventPattern)).toEqual(
      (onCloudTrail as { 'detail-type': string[]; detail: unknown }[]).map((p) => ({
        source: ['aws.iam', 'aws.sts', 'aws.signin', 'aws.organizations'],
        'detail-type': p['detail-type'],
        detail: p.detail,
      })),
    );
  });

  it('encrypts the paging topic with a KMS key and expires state-table items by TTL', () => {
    // Arrange
    const { PageTopic, StateTable } = packaged.template.Resources;
    // Assert
    expect(PageTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'PageKey' });
    expect(StateTable?.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(StateTable?.Properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiration',
      Enabled: true,
    });
  });

  it.each(functions)(
    'watches %s: errors that repeat, throttles and its rule failing to invoke it each page when they fire and when they clear',
    (name, entry) => {
      // Arrange
      const lambda = { Ref: functionLogicalId(packaged.template, name) };
      const rule = `ops-autopilot-dev-${entry.deployment.trigger.rule}`;
      const alarms = selfAlarms(packaged.template).map(([, a]) => a.Properties);
      const onFunction = (metric: string) =>
        alarms.filter(
          (a) => a.MetricName === metric && JSON.stringify(a.Dimensions).includes(JSON.stringify(lambda)),
        );
      const onRule = alarms.filter(
        (a) =>
          a.MetricName === 'FailedInvocations' &&
          JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'RuleName', Value: rule }]),
      );
      // Assert
      for (const [what, found] of [
        ['Errors', onFunction('Errors')],
        ['Throttles', onFunction('Throttles')],
        ['FailedInvocations', onRule],
      ] as const) {
        expect(found, `${name} ${what}`).toHaveLength(1);
        expect(found[0]?.AlarmActions, `${name} ${what}`).toEqual([{ Ref: 'PageTopic' }]);
        expect(found[0]?.OKActions, `${name} ${what}`).toEqual([{ Ref: 'PageTopic' }]);
        expect(found[0]?.Period, `${name} ${what}`).toBe(entry.deployment.monitoring.period);
      }
      expect(onFunction('Errors')[0]?.DatapointsToAlarm, name).toBeGreaterThan(1);
    },
  );

  it.each(functions)(
    "charts %s on the dashboard: its own metrics, its errors and throttles, its rule's failed invocations",
    (name, entry) => {
      // Arrange
      const { body, values } = dashboardOf(packaged.template);
      const charts = body.widgets.flatMap((w) => (w.properties.metrics ?? []) as string[][]);
      const fnVar = Object.entries(values).find(
        ([, v]) => JSON.stringify(v) === JSON.stringify({ Ref: functionLogicalId(packaged.template, name) }),
      )?.[0];
      // Assert
      for (const widget of entry.deployment.monitoring.widgets) {
        const shown = body.widgets.find((w) => w.properties.title === widget.title);
        expect(shown, `${name}: ${widget.title}`).toBeDefined();
        expect(JSON.stringify(shown?.properties.metrics)).toContain(`"function","${name}"`);
        for (const m of widget.metrics) expect(JSON.stringify(shown?.properties.metrics)).toContain(`"${m}"`);
      }
      expect(fnVar, `${name} has no errors chart`).toBeDefined();
      expect(charts).toContainEqual(['AWS/Lambda', 'Errors', 'FunctionName', `\${${fnVar}}`]);
      expect(charts).toContainEqual([
        'AWS/Events',
        'FailedInvocations',
        'RuleName',
        `ops-autopilot-\${Stage}-${entry.deployment.trigger.rule}`,
      ]);
    },
  );

  it('has a dashboard whose body is valid JSON once CloudFormation substitutes it, forwarding global events or not', () => {
    for (const forwardGlobalEvents of [false, true]) {
      // Arrange
      const sub = dashboardOf(packaged.template, { forwardGlobalEvents }).source;
      // Act
      const body = JSON.parse(sub.replace(/\$\{[^}]+\}/g, 'x')) as { widgets: unknown[] };
      // Assert
      expect(body.widgets.length).toBeGreaterThanOrEqual(4);
    }
  });

  it('shows every alarm of its own on the dashboard, and one that exists only with forwarding only on a stack that forwards', () => {
    // Arrange
    const shownWith = (forwardGlobalEvents: boolean) =>
      Object.values(dashboardOf(packaged.template, { forwardGlobalEvents }).values).map((v) =>
        JSON.stringify(v),
      );
    const [forwarding, notForwarding] = [shownWith(true), shownWith(false)];
    // Assert
    for (const [id, alarm] of selfAlarms(packaged.template)) {
      const arn = JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
      expect(forwarding, `${id} is not on the dashboard`).toContain(arn);
      // A stack that does not forward has no such alarm: naming it would fail the deployment.
      if (alarm.Condition === 'ForwardGlobalEvents') expect(notForwarding, id).not.toContain(arn);
      else expect(notForwarding, `${id} is not on the dashboard`).toContain(arn);
    }
  });

  it('watches each global-events forward rule: its failed invocations page at once and when they clear, where the rule exists', () => {
    // Arrange
    const rules = forwardRules(packaged.template);
    const alarms = selfAlarms(packaged.template);
    // Assert
    expect(rules.map((r) => r.name)).toEqual([
      'ops-autopilot-dev-global-events-forward',
      'ops-autopilot-dev-global-events-forward-2',
    ]);
    for (const rule of rules) {
      const found = alarms.filter(
        ([, a]) =>
          a.Properties.MetricName === 'FailedInvocations' &&
          JSON.stringify(a.Properties.Dimensions) ===
            JSON.stringify([{ Name: 'RuleName', Value: rule.name }]),
      );
      expect(found, rule.name).toHaveLength(1);
      const [, alarm] = found[0] as [string, (typeof found)[0][1]];
      expect(alarm.Condition, rule.name).toBe(packaged.template.Resources[rule.logicalId]?.Condition);
      expect(alarm.Properties.Namespace, rule.name).toBe('AWS/Events');
      expect(alarm.Properties.AlarmActions, rule.name).toEqual([{ Ref: 'PageTopic' }]);
      expect(alarm.Properties.OKActions, rule.name).toEqual([{ Ref: 'PageTopic' }]);
      expect(wouldAlarm(alarm, [undefined, undefined, 1]), rule.name).toBe(true);
    }
  });

  it('charts the failed invocations of the global-events forward rules on the dashboard of a stack that forwards', () => {
    // Arrange
    const charted = (forwardGlobalEvents: boolean) =>
      dashboardOf(packaged.template, { forwardGlobalEvents }).body.widgets.flatMap(
        (w) => (w.properties.metrics ?? []) as string[][],
      );
    const lines = forwardRules(packaged.template).map((r) => [
      'AWS/Events',
      'FailedInvocations',
      'RuleName',
      r.name.replace('ops-autopilot-dev-', `ops-autopilot-\${Stage}-`),
    ]);
    // Assert
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(charted(true)).toContainEqual(line);
      expect(charted(false)).not.toContainEqual(line);
    }
  });

  it('pages the topic when one of its own alarms fires and again when it clears', () => {
    // Arrange
    const alarms = selfAlarms(packaged.template);
    const rules = [...functionRuleNames(packaged.template), ...forwardRules(packaged.template)];
    // Assert: errors and throttles per function, failed invocations per rule (forward rules too), the two queues
    expect(alarms.length).toBe(2 * registry.length + rules.length + 2);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: 'PageTopic' }]);
      expect(alarm.Properties.OKActions, id).toEqual(alarm.Properties.AlarmActions);
    }
  });

  it('does not page on a single function error, only on errors that repeat', () => {
    // Arrange
    const errors = selfAlarms(packaged.template).filter(([, a]) => a.Properties.MetricName === 'Errors');
    // Assert
    expect(errors).toHaveLength(registry.length);
    for (const [id, alarm] of errors) {
      // A refused duplicate or a mistyped manual invoke: one errored period, whatever came before.
      for (let at = 0; at < 4; at++) {
        const periods = [0, 0, 0, 0].map((v, i) => (i === at ? 3 : v));
        expect(wouldAlarm(alarm, periods), `${id} paged on ${periods.join(',')}`).toBe(false);
      }
      expect(wouldAlarm(alarm, [undefined, undefined, undefined, 5]), id).toBe(false);
      // Errors in consecutive periods: something is failing for real.
      expect(wouldAlarm(alarm, [0, 0, 1, 1]), id).toBe(true);
    }
  });

  it('pages on the first message in the failure queue or the events DLQ, the first throttle and the first failed rule invocation', () => {
    // Arrange
    const prompt = selfAlarms(packaged.template).filter(([, a]) => a.Properties.MetricName !== 'Errors');
    const queues = prompt.map(([, a]) => JSON.stringify(a.Properties.Dimensions));
    // Assert
    expect(queues.some((d) => d.includes('"FailureQueue"'))).toBe(true);
    expect(queues.some((d) => d.includes('"EventsDeadLetterQueue"'))).toBe(true);
    expect(prompt.map(([, a]) => a.Properties.MetricName).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesVisible',
      ...functionRuleNames(packaged.template).map(() => 'FailedInvocations'),
      ...forwardRules(packaged.template).map(() => 'FailedInvocations'),
      ...registry.map(() => 'Throttles'),
    ]);
    for (const [id, alarm] of prompt) {
      expect(wouldAlarm(alarm, [undefined, undefined, 1]), id).toBe(true);
    }
  });

  it('refuses to package a stage with no configuration, naming it', async () => {
    // Act
    const error = await run(
      'npx',
      ['sls', 'package', '--stage', 'nosuchstage', '--package', `${packaged.dir}-bad`],
      {
        cwd: ROOT,
      },
    ).then(
      () => undefined,
      (e: { stdout?: string; stderr?: string }) => `${e.stdout}${e.stderr}`,
    );
    // Assert
    expect(error).toMatch(/no stage "nosuchstage"/);
  }, 120_000);
});

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

  it.each(functions)('invokes %s from its own rule: its event pattern or its schedule', (name, entry) => {
    // Arrange
    const { trigger } = entry.deployment;
    const byPattern = eventRules(packaged.template).filter((r) => r.functionName === name);
    // Assert
    if ('patternFile' in trigger) {
      // A file holds one pattern or several (one rule each, named <rule>, <rule>-2, ...).
      const file: unknown = JSON.parse(readFileSync(join(ROOT, trigger.patternFile), 'utf8'));
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
  });

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
    expect(forwardRules(packaged.template)).toHaveLength(2);
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

/** A moto with a stack's table and topic, and the shell environment `sls invoke local` runs with against it. */
async function invokeLocalEnvironment(stackName: string): Promise<{ moto: Moto; env: NodeJS.ProcessEnv }> {
  const moto = await startMoto();
  useMotoEnvironment(moto.endpoint);
  const stack = await createLocalStack(stackName);
  const env = {
    ...process.env,
    AWS_ENDPOINT_URL: moto.endpoint,
    STATE_TABLE_NAME: stack.tableName,
    PAGE_TOPIC_ARN: stack.topicArn,
    DRY_RUN: 'true',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  return { moto, env };
}

describe('sls invoke local with the fixtures', () => {
  let moto: Moto;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    ({ moto, env } = await invokeLocalEnvironment('ops-autopilot-invoke'));
  });
  afterAll(async () => {
    await moto?.stop();
  });

  const invokeLocal = (fn: string, path: string) =>
    run('npx', ['sls', 'invoke', 'local', '-f', fn, '--path', path], { cwd: ROOT, env }).then(
      (r) => ({ ok: true, out: r.stdout }),
      (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout}${e.stderr}` }),
    );

  /** What each function's sample prints, beyond a successful run. */
  const printed: Record<string, string[]> = {
    // The sample's instance does not exist in the emulator: the runbook is refused as out of scope.
    onAlarm: ['"reason": "out-of-scope"', 'paged \\"[HIGH] alarm.state-change: web-cpu-high is ALARM\\"'],
    // No function ARN in the local context; the empty emulator has no instances.
    // Dry-run: the world-open ingress rule is paged, and the page says what would be revoked.
    onCloudTrail: [
      '"reason": "dry-run"',
      'would revoke tcp 22 from 0.0.0.0/0 on sg-0123456789abcdef0',
      'paged \\"[CRITICAL] cloudtrail.detection: sg-0123456789abcdef0 opened',
    ],
    stopIdleInstances: ['"trigger": "manual"', '"dryRun": true', '"verdicts": []'],
    // The documented sample is above the default thresholds: it pages, with its root cause.
    onCostAnomaly: ['paged \\"[WARNING] cost.anomaly: Amazon Elastic Compute Cloud - Compute: +$1,001.00'],
    // The documented sample: its vault "does not exist", so it pages and is not retried.
    onBackupFailure: ['paged \\"[HIGH] backup.job: Backup job FAILED: type resource-id'],
  };

  it.each(registry.map((e) => [e.name, e.deployment.sampleFixture] as const))(
    'runs %s offline on its sample %s and prints the decision',
    async (name, fixture) => {
      // Act
      const result = await invokeLocal(name, `events/${fixture}`);
      // Assert
      expect(result.ok, result.out).toBe(true);
      expect(result.out).toContain('"outcomes"');
      for (const text of printed[name] ?? []) expect(result.out).toContain(text);
    },
    120_000,
  );

  it('fails on an invalid fixture with the error type and the field', async () => {
    // Act
    const result = await invokeLocal('onAlarm', 'events/onAlarm/invalid/missing-alarm-name.json');
    // Assert
    expect(result.ok).toBe(false);
    expect(result.out).toContain('"errorType": "InvalidEventError"');
    expect(result.out).toContain('detail.alarmName');
  }, 120_000);
});

describe('sls invoke local after a start-up error or without credentials', () => {
  let moto: Moto;
  let env: NodeJS.ProcessEnv;
  const invoke = ['invoke', 'local', '-f', 'onAlarm', '--path', 'events/onAlarm/metric-alarm.json'];

  beforeAll(async () => {
    ({ moto, env } = await invokeLocalEnvironment('ops-autopilot-startup'));
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('exits non-zero with the message when STATE_TABLE_NAME is not set', async () => {
    // Arrange
    const { STATE_TABLE_NAME: _unset, ...withoutTable } = env;
    // Act
    const result = await runSls(invoke, withoutTable);
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('STATE_TABLE_NAME is not set');
  }, 120_000);

  it('exits non-zero naming PAGE_TOPIC_ARN when it holds a placeholder instead of an ARN', async () => {
    // Act
    const result = await runSls(invoke, { ...env, PAGE_TOPIC_ARN: '<your-page-topic-arn>' });
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('PAGE_TOPIC_ARN: must be an SNS topic ARN');
    // Thrown by the first invocation (no tracer reads the environment at import any more), so sls prints
    // it inside its JSON errorMessage, quotes escaped.
    expect(result.out).toMatch(/got \\?"<your-page-topic-arn>\\?"/);
  }, 120_000);

  it('exits non-zero saying the page could not be sent when PAGE_TOPIC_ARN names no topic', async () => {
    // Act
    const result = await runSls(invoke, {
      ...env,
      PAGE_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:REPLACE_ME',
    });
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('sns.page: could not send');
  }, 120_000);

  it('exits non-zero saying there are no AWS credentials, not only that the idempotency store failed', async () => {
    // Arrange: no credentials anywhere the SDK looks (environment, profile files, instance metadata).
    const noCredentials: NodeJS.ProcessEnv = {
      ...env,
      AWS_SHARED_CREDENTIALS_FILE: join(packaged.dir, 'no-credentials'),
      AWS_CONFIG_FILE: join(packaged.dir, 'no-config'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    for (const name of [
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_SESSION_TOKEN',
      'AWS_PROFILE',
      'AWS_DEFAULT_PROFILE',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
      'AWS_CONTAINER_CREDENTIALS_FULL_URI',
      'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_ROLE_ARN',
    ]) {
      delete noCredentials[name];
    }
    // Act
    const result = await runSls(invoke, noCredentials);
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).toBe(1);
    expect(result.out).toContain('"errorMessage": "no AWS credentials:');
    expect(result.out).toContain('set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
  }, 120_000);
});
