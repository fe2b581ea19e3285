'use strict';
/**
 * Loads config/stages.ts through shared/config.ts (the same zod schema the functions use), so
 * `sls package` fails on an invalid stage configuration, and builds from the function registry
 * (functions/index.ts) what every function needs in the stack:
 *   ${opsConfig:functions}             the function entries: handler, role, retries, failure queue, rule
 *   its role (the runtime's statements written once below, plus its deployment's own), its alarms on
 *   itself (Errors, Throttles, its rule's FailedInvocations), the global-events forward rules with
 *   their FailedInvocations alarms, and the dashboard: added to the compiled template before it is
 *   written. A pattern's `{ "anything-but": { "stackRoleNames": true } }` becomes this stack's role names.
 *   ${opsConfig:runbookPolicies}       the automation role's policy: what the configured runbooks need
 *   ${opsConfig:stateTableDeletionPolicy} Retain, or Delete when the stage param retainStateTable is false
 * A bad configuration stops the command with one message and no stack trace. `sls deploy` checks that
 * every configured runbook document exists and takes the parameters its rules pass
 * (ssm:DescribeDocument); `sls package` says it did not (AWS-owned documents' parameter names are
 * checked with the configuration, from shared/domain/awsRunbookDocuments.ts).
 */
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');

/**
 * esbuild's service process (tsx's, which compiles config/stages.ts, and serverless-esbuild's) pings
 * this process every second. When this process exits with a ping unanswered, the service reads end of
 * input with a request outstanding and dies printing "fatal error: all goroutines are asleep -
 * deadlock!" and a goroutine dump after the command's own message (a configuration error, most often;
 * https://github.com/evanw/esbuild/issues/3287). Killed before this process exits, it prints nothing;
 * no build can still be running once the process exits.
 */
function stopEsbuildServicesOnExit() {
  if (stopEsbuildServicesOnExit.registered) return;
  stopEsbuildServicesOnExit.registered = true;
  process.once('exit', () => {
    for (const pid of esbuildServicePids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

/** The esbuild service processes this process started (`esbuild --service=<version> --ping`). */
function esbuildServicePids() {
  const isService = (args) => /esbuild/.test(args) && args.includes('--service=');
  if (fs.existsSync('/proc/self/stat')) {
    return fs.readdirSync('/proc').flatMap((entry) => {
      if (!/^\d+$/.test(entry)) return [];
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid !== process.pid) return [];
        const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return isService(args) ? [Number(entry)] : [];
      } catch {
        return []; // exited meanwhile, or not ours to read
      }
    });
  }
  // No /proc (macOS): ask ps.
  const { spawnSync } = require('node:child_process');
  const listed = spawnSync('ps', ['-A', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout ?? '';
  return listed.split('\n').flatMap((line) => {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return m && Number(m[2]) === process.pid && isService(m[3]) ? [Number(m[1])] : [];
  });
}

function tsRequire(file) {
  const { require: load } = require('tsx/cjs/api');
  return load(path.join(ROOT, file), __filename);
}

const loadConfigModule = () => tsRequire('shared/config.ts');
const loadRegistry = () => tsRequire('functions/index.ts').registry;
const loadOnAlarmDeployment = () => tsRequire('functions/onAlarm/deployment.ts');

function loadStage(stage) {
  const configModule = loadConfigModule();
  configModule.validateAllStages();
  return configModule.loadConfig({ STAGE: stage });
}

const pascal = (name) =>
  name
    .replace(/(^|-)([a-z0-9])/g, (_m, _dash, c) => c.toUpperCase())
    .replace(/^[a-z]/, (c) => c.toUpperCase());
const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const deployedName = (stage, fn) => `ops-autopilot-${stage}-${fn}`;
const functionRoleName = (stage, deployment, region) =>
  `ops-autopilot-${stage}-${deployment.roleName}-${region}`;
/**
 * A pattern file holds one event pattern, or several (one rule each: a rule's pattern holds 2,048
 * characters); a deployment may instead give its patterns as data (onCloudTrail derives them).
 */
function patternsOf(deployment) {
  if ('patterns' in deployment.trigger) return deployment.trigger.patterns;
  if (!('patternFile' in deployment.trigger)) return [undefined];
  const json = JSON.parse(fs.readFileSync(path.join(ROOT, deployment.trigger.patternFile), 'utf8'));
  return Array.isArray(json) ? json : [json];
}

/** EventBridge's limit on one rule's pattern (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html). */
const PATTERN_LIMIT = 2048;
const isStackRoleNames = (v) =>
  v !== null && typeof v === 'object' && Object.keys(v).length === 1 && v.stackRoleNames === true;

/**
 * A pattern file may exclude this stack's own roles by writing `{ "anything-but": { "stackRoleNames":
 * true } }`: the exact role names of this stage and region go in its place. A name prefix would also
 * exclude any role someone names `ops-autopilot-...`; EventBridge refuses the marker itself, so a file
 * used unresolved fails instead of excluding the wrong roles.
 */
function withStackRoleNames(node, names) {
  if (Array.isArray(node)) return node.map((n) => withStackRoleNames(n, names));
  if (node === null || typeof node !== 'object') return node;
  if (isStackRoleNames(node['anything-but'])) return { ...node, 'anything-but': [...names] };
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, withStackRoleNames(v, names)]));
}

/** The roles the plugin gives the stack's functions on this stage and region (addFunctionResources). */
const stackRoleNames = (stage, region) =>
  loadRegistry().map(({ deployment }) => functionRoleName(stage, deployment, region));

/** A function's patterns as its rules hold them, each within EventBridge's limit. */
function resolvedPatternsOf(stage, region, deployment) {
  return patternsOf(deployment).map((pattern, i) => {
    if (pattern === undefined) return undefined;
    const resolved = withStackRoleNames(pattern, stackRoleNames(stage, region));
    const size = JSON.stringify(resolved).length;
    if (size > PATTERN_LIMIT) {
      throw new Error(
        `ops-autopilot: rule ${ruleName(stage, deployment, i)}'s pattern is ${size} characters with this stack's role names; EventBridge takes ${PATTERN_LIMIT}`,
      );
    }
    return resolved;
  });
}

/** The rule suffixes of a function: `<rule>` for its first pattern (or schedule), `<rule>-2`... for the others. */
const ruleSuffixes = (deployment) =>
  patternsOf(deployment).map((_, i) =>
    i === 0 ? deployment.trigger.rule : `${deployment.trigger.rule}-${i + 1}`,
  );

const ruleName = (stage, deployment, index = 0) =>
  `ops-autopilot-${stage}-${ruleSuffixes(deployment)[index]}`;
const roleId = (fn) => `${pascal(fn)}Role`;

/**
 * The records a function shares with others (the account's stop budget): exactly those keys, with the
 * actions each is used with, and nothing else of another function's records.
 */
function sharedStateStatements(stage, deployment, stageConfig) {
  const kinds = deployment.sharedStateKinds?.(stageConfig) ?? [];
  if (kinds.length === 0) return [];
  const { sharedStateKeyOf, SHARED_STATE_ACTIONS } = tsRequire('shared/state/table.ts');
  return [
    {
      Sid: 'SharedState',
      Effect: 'Allow',
      Action: [...new Set(kinds.flatMap((kind) => SHARED_STATE_ACTIONS[kind]))],
      Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
      Condition: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': kinds.map((kind) => sharedStateKeyOf(stage, kind)),
        },
      },
    },
  ];
}

/** What every function's runtime needs, whatever it does; its own statements follow these. */
function runtimeStatements(stage, fn, deployment, stageConfig) {
  return [
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${deployedName(stage, fn)}:*`,
      },
    },
    {
      Sid: 'Traces',
      Effect: 'Allow',
      Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
      Resource: '*',
    },
    // Only this function's records: every key starts with its name (idempotency, pages, action log).
    {
      Sid: 'StateTable',
      Effect: 'Allow',
      Action: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        // Whatever else the function's steps do with its own records (a transaction's condition check).
        ...(deployment.stateTableActions ?? []),
      ],
      Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${deployedName(stage, fn)}#*`] },
      },
    },
    // Records shared with another function: exactly their prefix, and only the actions declared.
    ...(deployment.sharedStateRecords ?? []).map(({ kind, actions }) => ({
      Sid: `SharedState${pascal(kind)}`,
      Effect: 'Allow',
      Action: actions,
      Resource: { 'Fn::GetAtt': ['StateTable', 'Arn'] },
      Condition: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [
            `${tsRequire('shared/state/table.ts').sharedStatePrefixOf(stage)}#${kind}#*`,
          ],
        },
      },
    })),
    ...sharedStateStatements(stage, deployment, stageConfig),
    {
      Sid: 'Page',
      Effect: 'Allow',
      Action: 'sns:Publish',
      // The chat and pager topics exist only when the stage subscribes a chat channel or a pager.
      Resource: [
        { Ref: 'PageTopic' },
        { 'Fn::If': ['HasChatPages', { Ref: 'PageChatTopic' }, { Ref: 'AWS::NoValue' }] },
        { 'Fn::If': ['HasPager', { Ref: 'PagePagerTopic' }, { Ref: 'AWS::NoValue' }] },
      ],
    },
    {
      Sid: 'PageKey',
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: { 'Fn::GetAtt': ['PageKey', 'Arn'] },
    },
    {
      Sid: 'FailureQueue',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] },
    },
    // The kill switch (shared/runtime/killSwitch.ts): this stage's mode parameter and nothing else.
    {
      Sid: 'KillSwitch',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/ops-autopilot/${stage}/mode`,
      },
    },
  ];
}

/** The serverless.yml entry of one function; the name is set so a plugin-made entry deploys as any other. */
async function functionEntry(stage, region, { name, deployment }, resolveVariable, allNames) {
  const { trigger } = deployment;
  const sources =
    'scheduleParam' in trigger
      ? [{ schedule: await resolveVariable(`param:${trigger.scheduleParam}`) }]
      : resolvedPatternsOf(stage, region, deployment).map((pattern) => ({ pattern }));
  return {
    name: deployedName(stage, name),
    handler: `functions/${name}/handler.handler`,
    // The build folder holds every function's code-split chunks: each zip takes only its own.
    package: {
      patterns: allNames.filter((other) => other !== name).map((other) => `!functions/${other}/**`),
    },
    description: deployment.description,
    role: roleId(name),
    ...(deployment.timeout ? { timeout: deployment.timeout } : {}),
    ...(deployment.memorySize ? { memorySize: deployment.memorySize } : {}),
    ...(deployment.environment ? { environment: { ...deployment.environment } } : {}),
    // Sized per function in its deployment.ts: a storm of one source throttles only that function.
    reservedConcurrency: deployment.reservedConcurrency,
    maximumRetryAttempts: deployment.maximumRetryAttempts,
    maximumEventAge: deployment.maximumEventAge,
    destinations: { onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': ['FailureQueue', 'Arn'] } } },
    events: sources.map((source, i) => ({
      eventBridge: {
        name: ruleName(stage, deployment, i),
        ...source,
        retryPolicy: { ...deployment.ruleRetryPolicy },
        deadLetterQueueArn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] },
      },
    })),
  };
}

const pageOnChange = { AlarmActions: [{ Ref: 'PageTopic' }], OKActions: [{ Ref: 'PageTopic' }] };
const PERIOD_WORDS = { 300: 'five-minute', 3600: 'hourly' };
const periodWord = (period) => PERIOD_WORDS[period] ?? `${period}-second`;
const repeated = ({ evaluationPeriods, datapointsToAlarm }, period) =>
  datapointsToAlarm === evaluationPeriods
    ? `${datapointsToAlarm} ${periodWord(period)} periods running`
    : `${datapointsToAlarm} of the last ${evaluationPeriods} ${periodWord(period)} periods`;

/**
 * A function's alarms on itself. Throttles and a rule's failed invocation page at once (something is
 * stuck or lost); errors only when they repeat, since a single one (a refused duplicate, a mistyped
 * manual invoke) is harmless and an event that keeps failing reaches the failure queue, which pages.
 */
function selfAlarms(stage, { name, deployment }, lambdaId) {
  const { period, errors } = deployment.monitoring;
  const common = {
    Statistic: 'Sum',
    Period: period,
    Threshold: 0,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    ...pageOnChange,
  };
  const lambda = {
    Namespace: 'AWS/Lambda',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: lambdaId } }],
  };
  const alarm = (Properties) => ({ Type: 'AWS::CloudWatch::Alarm', Properties });
  return {
    [`${pascal(name)}ErrorsAlarm`]: alarm({
      AlarmName: `${deployedName(stage, name)}-errors`,
      AlarmDescription: `${name} failed in ${repeated(errors, period)} (a single error does not page)`,
      ...lambda,
      MetricName: 'Errors',
      ...common,
      EvaluationPeriods: errors.evaluationPeriods,
      DatapointsToAlarm: errors.datapointsToAlarm,
    }),
    [`${pascal(name)}ThrottlesAlarm`]: alarm({
      AlarmName: `${deployedName(stage, name)}-throttles`,
      AlarmDescription: `${name} was throttled (its invocations wait, retry, or end in the failure queue)`,
      ...lambda,
      MetricName: 'Throttles',
      ...common,
      EvaluationPeriods: 1,
    }),
    ...Object.fromEntries(
      ruleSuffixes(deployment).map((suffix) =>
        ruleFailedInvocationsAlarm(
          stage,
          suffix,
          period,
          `EventBridge gave up invoking ${name} from its rule (see the events DLQ)`,
        ),
      ),
    ),
  };
}

/** A rule's FailedInvocations alarm, as [logical id, resource]: it pages at once, and when it clears. */
function ruleFailedInvocationsAlarm(stage, suffix, period, description, condition) {
  const rule = `ops-autopilot-${stage}-${suffix}`;
  return [
    `${pascal(suffix)}RuleFailedInvocationsAlarm`,
    {
      Type: 'AWS::CloudWatch::Alarm',
      ...(condition ? { Condition: condition } : {}),
      Properties: {
        AlarmName: `${rule}-rule-failed-invocations`,
        AlarmDescription: description,
        Namespace: 'AWS/Events',
        MetricName: 'FailedInvocations',
        Dimensions: [{ Name: 'RuleName', Value: rule }],
        Statistic: 'Sum',
        Period: period,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
        ...pageOnChange,
        EvaluationPeriods: 1,
      },
    },
  ];
}

/**
 * IAM, STS, console sign-in and Organizations events reach EventBridge in us-east-1 only: a us-east-1
 * stack given the stage param globalEventsHomeRegion forwards the ones onCloudTrail's rules take to the
 * home region's default bus (its rules take them there), one rule per pattern, each watched like a
 * function's rule (its failed invocations page). Only where the condition ForwardGlobalEvents holds.
 */
const FORWARD_CONDITION = 'ForwardGlobalEvents';
const FORWARDED_FUNCTION = 'onCloudTrail';

function globalEventsForwarding(stage, region, registry) {
  const entry = registry.find(({ name }) => name === FORWARDED_FUNCTION);
  if (!entry) throw new Error(`ops-autopilot: ${FORWARDED_FUNCTION} is not in the registry`);
  const { GLOBAL_SOURCES } = tsRequire('functions/onCloudTrail/signal.ts');
  const homeBus = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
    'Fn::Sub': 'arn:${AWS::Partition}:events:${GlobalEventsHomeRegion}:${AWS::AccountId}:event-bus/default',
  };
  const resources = {};
  const suffixes = [];
  resolvedPatternsOf(stage, region, entry.deployment).forEach((pattern, i) => {
    const suffix = i === 0 ? 'global-events-forward' : `global-events-forward-${i + 1}`;
    const name = `ops-autopilot-${stage}-${suffix}`;
    const EventPattern = {
      source: [...GLOBAL_SOURCES],
      'detail-type': pattern['detail-type'],
      detail: pattern.detail,
    };
    const size = JSON.stringify(EventPattern).length;
    if (size > PATTERN_LIMIT) {
      throw new Error(
        `ops-autopilot: rule ${name}'s pattern is ${size} characters; EventBridge takes ${PATTERN_LIMIT}`,
      );
    }
    suffixes.push(suffix);
    resources[`GlobalEventsForwardRule${i === 0 ? '' : i + 1}`] = {
      Type: 'AWS::Events::Rule',
      Condition: FORWARD_CONDITION,
      Properties: {
        Name: name,
        Description: "IAM, STS, sign-in and Organizations events to the home region's onCloudTrail",
        EventBusName: 'default',
        EventPattern,
        Targets: [
          {
            Id: 'home-region-default-bus',
            Arn: homeBus,
            RoleArn: { 'Fn::GetAtt': ['GlobalEventsForwardRole', 'Arn'] },
            RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
            DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'Arn'] } },
          },
        ],
      },
    };
    const [alarmId, alarm] = ruleFailedInvocationsAlarm(
      stage,
      suffix,
      entry.deployment.monitoring.period,
      "EventBridge gave up forwarding global events to the home region's bus (see the events DLQ)",
      FORWARD_CONDITION,
    );
    resources[alarmId] = alarm;
  });
  return { resources, suffixes };
}

/**
 * One dashboard: each function's own metrics, then every function's errors and throttles, the
 * queues, every rule's failed invocations and the state of every alarm the template holds.
 */
function dashboard(stage, region, entries, lambdaIds, alarms, forwardSuffixes) {
  // An alarm that exists only where the stack forwards global events cannot be named elsewhere.
  const conditional = alarms.filter(([, a]) => a.Condition !== undefined);
  for (const [id, a] of conditional) {
    if (a.Condition !== FORWARD_CONDITION)
      throw new Error(`ops-autopilot: the dashboard cannot show ${id} (condition ${a.Condition})`);
  }
  const always = alarms.filter(([, a]) => a.Condition === undefined).map(([id]) => id);
  const body = (withForwarding) =>
    dashboardBody(
      stage,
      entries,
      lambdaIds,
      withForwarding ? [...always, ...conditional.map(([id]) => id)] : always,
      withForwarding ? forwardSuffixes : [],
    );
  return {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: {
      DashboardName: `ops-autopilot-${stage}-${region}`,
      DashboardBody:
        forwardSuffixes.length > 0 ? { 'Fn::If': [FORWARD_CONDITION, body(true), body(false)] } : body(false),
    },
  };
}

/** The dashboard's body (an Fn::Sub), with the failed invocations of these other rules beside the functions'. */
function dashboardBody(stage, entries, lambdaIds, alarmIds, otherRuleSuffixes) {
  const vars = { Stage: stage };
  const metric = (title, stat, period, metrics) => ({
    type: 'metric',
    properties: { title, region: `\${AWS::Region}`, stat, period, metrics },
  });
  const widgets = [];
  for (const { name, deployment } of entries) {
    for (const w of deployment.monitoring.widgets) {
      const [first, ...rest] = w.metrics;
      widgets.push(
        metric(w.title, 'Sum', w.period ?? deployment.monitoring.period, [
          ['OpsAutopilot', first, 'service', 'ops-autopilot', 'function', name],
          ...rest.map((m) => ['.', m, '.', '.', '.', '.']),
        ]),
      );
    }
  }
  widgets.push(
    metric(
      'Function errors and throttles',
      'Sum',
      300,
      entries.flatMap(({ name }) => {
        vars[`${pascal(name)}Fn`] = { Ref: lambdaIds.get(name) };
        return [
          ['AWS/Lambda', 'Errors', 'FunctionName', `\${${pascal(name)}Fn}`],
          ['.', 'Throttles', '.', '.'],
        ];
      }),
    ),
    // The runtime's guards, emitted by every function: the kill switch forcing dry-run, the rate guard refusing.
    metric(
      'Forced dry-runs and rate-limited actions',
      'Sum',
      300,
      entries.flatMap(({ name }) => [
        ['OpsAutopilot', 'ForcedDryRun', 'service', 'ops-autopilot', 'function', name],
        ['.', 'ActionsRateLimited', '.', '.', '.', '.'],
      ]),
    ),
    metric('Queues (dead letters, failures)', 'Maximum', 300, [
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `\${DlqName}`],
      ['...', `\${FailureQueueName}`],
    ]),
    metric(
      'EventBridge failed invocations',
      'Sum',
      300,
      [...entries.flatMap(({ deployment }) => ruleSuffixes(deployment)), ...otherRuleSuffixes].map(
        (suffix) => ['AWS/Events', 'FailedInvocations', 'RuleName', `ops-autopilot-\${Stage}-${suffix}`],
      ),
    ),
  );
  vars.DlqName = { 'Fn::GetAtt': ['EventsDeadLetterQueue', 'QueueName'] };
  vars.FailureQueueName = { 'Fn::GetAtt': ['FailureQueue', 'QueueName'] };
  // Two charts a row, then the alarms across the width.
  const placed = widgets.map((w, i) => ({
    ...w,
    x: (i % 2) * 12,
    y: Math.floor(i / 2) * 6,
    width: 12,
    height: 6,
  }));
  for (const id of alarmIds) vars[id] = { 'Fn::GetAtt': [id, 'Arn'] };
  placed.push({
    type: 'alarm',
    x: 0,
    y: Math.ceil(widgets.length / 2) * 6,
    width: 24,
    height: 3,
    properties: {
      title: 'Self-monitoring alarms (each pages the topic)',
      alarms: alarmIds.map((id) => `\${${id}}`),
    },
  });
  return { 'Fn::Sub': [JSON.stringify({ widgets: placed }), vars] };
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
          const stageConfig = this.stageConfigOnce(stage);
          // The error was thrown once, for the first variable: the command stops with that message alone.
          if (stageConfig === undefined) return { value: 'not-resolved-configuration-invalid' };
          if (address === 'functions') {
            const region = String(await resolveVariable('self:provider.region'));
            const registry = loadRegistry();
            const names = registry.map((entry) => entry.name);
            const entries = await Promise.all(
              registry.map(async (entry) => [
                entry.name,
                await functionEntry(stage, region, entry, resolveVariable, names),
              ]),
            );
            return { value: Object.fromEntries(entries) };
          }
          if (address === 'runbookPolicies') {
            const statements = loadOnAlarmDeployment().automationRoleStatements(stageConfig);
            // A stage without runbooks: a role with no policy may do nothing.
            if (statements.length === 0) return { value: [] };
            const PolicyDocument = { Version: '2012-10-17', Statement: statements };
            return { value: [{ PolicyName: 'configured-runbooks', PolicyDocument }] };
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
    this.hooks = {
      initialize: () => this.keepInvokeLocalOffline(),
      'before:deploy:deploy': () => this.checkRunbookDocuments(),
      'after:package:finalize': () => this.sayDocumentsNotChecked(),
      'before:invoke:local:invoke': () => this.bridgeEsmHandler(),
      'after:invoke:local:invoke': () => this.removeEsmBridge(),
      error: () => this.exitInvokeLocalAfterError(),
      'before:package:finalize': () => {
        this.addFunctionResources();
        this.dropRedundantRoleDependencies();
      },
    };
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

  /** Each registered function's role and alarms, and the dashboard, into the compiled template. */
  addFunctionResources() {
    const provider = this.serverless.getProvider('aws');
    const stage = provider.getStage();
    const region = provider.getRegion();
    const stageConfig = this.stageConfigOnce(stage);
    const resources = this.serverless.service.provider.compiledCloudFormationTemplate.Resources;
    const entries = loadRegistry();
    const lambdaIds = new Map(entries.map(({ name }) => [name, provider.naming.getLambdaLogicalId(name)]));
    for (const entry of entries) {
      const { name, deployment } = entry;
      if (!resources[lambdaIds.get(name)]) throw new Error(`ops-autopilot: ${name} is not in the template`);
      resources[roleId(name)] = {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: functionRoleName(stage, deployment, region),
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
          Policies: [
            {
              PolicyName: kebab(name),
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [
                  ...runtimeStatements(stage, name, deployment, stageConfig),
                  ...deployment.statements(stageConfig),
                ],
              },
            },
          ],
        },
      };
      Object.assign(resources, selfAlarms(stage, entry, lambdaIds.get(name)));
    }
    const forwarding = globalEventsForwarding(stage, region, entries);
    Object.assign(resources, forwarding.resources);
    // serverless.yml's own resources (the queue alarms) are merged after this hook: include them.
    const all = { ...resources, ...this.serverless.service.resources?.Resources };
    const alarms = Object.entries(all).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm');
    resources.Dashboard = dashboard(stage, region, entries, lambdaIds, alarms, forwarding.suffixes);
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
