import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseStageConfig } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { addFunctionResources } from '#deploy/stack/index.ts';
import type { Resources } from '#deploy/stack/names.ts';
import { ruleSuffixes } from '#deploy/stack/patterns.ts';
import { registry } from '#functions/index.ts';

/**
 * The figures of docs/DEPLOY.md that follow from the registry and serverless.yml (the functions a deploy
 * prints, the alarms, rules, dashboards and keys the cost estimate counts), derived as the package-time
 * plugin derives the stack, so adding a function rewrites them (`npm run docs`) instead of leaving them
 * stale. test/package/deploy.test.ts holds these derivations to what `sls package` makes.
 */

const ROOT = join(import.meta.dirname, '..', '..');
/** The stage and region the walkthrough deploys (docs/DEPLOY.md). */
const TARGET = { stage: 'prod', region: 'eu-west-1', root: ROOT };

interface ServerlessYml {
  resources: {
    Resources: Resources;
    Outputs: Record<string, { Condition?: string }>;
  };
}

/** serverless.yml's own part of the stack; its CloudFormation tags (!Ref, !If) are not needed here. */
function serverlessYml(): ServerlessYml {
  return parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as ServerlessYml;
}

/** What a stack holds of the resource types a cost estimate counts, always and only where forwarding. */
export interface StackFigures {
  functions: number;
  alarms: number;
  rules: number;
  dashboards: number;
  keys: number;
  /** Only in a us-east-1 stack that forwards global events (a condition of the template). */
  conditional: { alarms: number; rules: number };
}

/** The resources the plugin adds and serverless.yml declares, as `sls package` merges them. */
export function stackFigures(): StackFigures {
  const yml = serverlessYml().resources.Resources;
  const lambdaIds = new Map(registry.map(({ name }) => [name, `${name}LambdaFunction`]));
  const resources: Resources = Object.fromEntries(
    [...lambdaIds.values()].map((id) => [id, { Type: 'AWS::Lambda::Function', Properties: {} }]),
  );
  const prod = parseStageConfig(TARGET.stage, stages[TARGET.stage]);
  addFunctionResources(TARGET, registry, prod, resources, lambdaIds, yml);
  const all = Object.values({ ...resources, ...yml });
  const count = (type: string, conditional: boolean) =>
    all.filter((r) => r.Type === type && (r.Condition !== undefined) === conditional).length;
  // Each function's own rules are made by serverless from its events: one per pattern or schedule.
  const rules = registry.reduce((n, { deployment }) => n + ruleSuffixes(deployment, ROOT).length, 0);
  return {
    functions: registry.length,
    alarms: count('AWS::CloudWatch::Alarm', false),
    rules: rules + count('AWS::Events::Rule', false),
    dashboards: count('AWS::CloudWatch::Dashboard', false),
    keys: count('AWS::KMS::Key', false),
    conditional: {
      alarms: count('AWS::CloudWatch::Alarm', true),
      rules: count('AWS::Events::Rule', true),
    },
  };
}

/** What each unconditional stack output looks like in the walkthrough's account (111122223333). */
const OUTPUT_EXAMPLES: Record<string, string> = {
  PageTopicArn: 'arn:aws:sns:eu-west-1:111122223333:ops-autopilot-prod-pages',
  StateTableName: 'ops-autopilot-prod-state',
  FailureQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ops-autopilot-prod-failures',
  EventsDeadLetterQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/111122223333/ops-autopilot-prod-events-dlq',
};

/** What a successful `sls deploy` of prod prints: every registered function and the stack's outputs. */
export function deployOutput(): string {
  const outputs = Object.entries(serverlessYml().resources.Outputs)
    .filter(([, o]) => o.Condition === undefined)
    .map(([name]) => {
      const example = OUTPUT_EXAMPLES[name];
      if (example === undefined)
        throw new Error(`serverless.yml output ${name}: add its example to OUTPUT_EXAMPLES`);
      return `  ${name}: ${example}`;
    });
  return [
    '```text',
    'ops-autopilot: runbook documents found: AWS-RestartEC2Instance',
    '',
    '✔ Service deployed to stack ops-autopilot-prod (120s)',
    '',
    'functions:',
    ...registry.map(({ name }) => `  ${name}: ops-autopilot-prod-${name} (… kB)`),
    '',
    'Stack Outputs:',
    ...outputs,
    '```',
  ].join('\n');
}

const dollars = (n: number) => `$${n.toFixed(2)}`;

/** The cost estimate's table: the counted resources from the stack, the rest from the assumptions above it. */
export function costTable(): string {
  const s = stackFigures();
  const alarms = s.alarms * 0.1;
  const dashboard = { low: 0, high: 3 * s.dashboards };
  const key = 1 * s.keys;
  // The hourly scan's custom metrics, the idle scan's reads (100 instances), Lambda, DynamoDB, logs, X-Ray.
  const usage = 2.1 + 0.8 + 0.03 + 0.1 + 0.06 + 0.01;
  const total = (extra: number) => Math.round(alarms + key + usage + extra);
  const rows = [
    [
      `CloudWatch alarms (${s.alarms}, standard resolution; ${s.conditional.alarms} more in a us-east-1 stack that forwards global events)`,
      '$0.10 each',
      dollars(alarms),
    ],
    [
      `CloudWatch dashboard (${s.dashboards})`,
      "$3.00 each beyond the account's first 3",
      `$0 to ${dollars(dashboard.high)}`,
    ],
    [`KMS key (${s.keys}, the paging topic's)`, '$1.00 each, plus $0.03 per 10,000 requests', dollars(key)],
    [
      'custom metrics (EMF, namespace `OpsAutopilot`): about 7 from the hourly scan, the rest only in the hours a function runs',
      '$0.30 per metric-month, prorated by the hour',
      'about $2.10 (up to about $15 if every function ran every hour)',
    ],
    [
      "idle scan's `GetMetricData` ([performance](performance.md): 110 metrics an hour for 100 instances)",
      '$0.01 per 1,000 metrics',
      '$0.80 per 100 running instances',
    ],
    [
      'Lambda: 730 scans x 5 s x 0.5 GB + 2,000 x 1 s x 0.25 GB = 2,325 GB-s, 2,730 requests',
      '$0.0000133334 per GB-s (arm64), $0.20 per million requests',
      '$0.03',
    ],
    [
      'DynamoDB on demand (state table, a few writes per decision; PITR on well under 1 GB)',
      'per request, $0.25 per GB-month, PITR $0.20 per GB-month',
      'under $0.10',
    ],
    [
      'CloudWatch Logs (100 MB ingested, kept 90 days in prod)',
      '$0.50 per GB ingested, $0.03 per GB-month',
      '$0.06',
    ],
    ['X-Ray (about 2,730 traces)', '$5.00 per million traces', '$0.01'],
    [
      'SNS (email pages), SQS (the queues, empty when all is well)',
      'first 1,000 emails and 1 million requests free',
      '$0',
    ],
    [
      `EventBridge (${s.rules} rules on the default bus, AWS service events and schedules; ${s.conditional.rules} more where global events are forwarded)`,
      'no charge',
      '$0',
    ],
    [
      '**total**',
      '',
      `**about $${total(dashboard.low)} to $${total(dashboard.high)} with 100 instances scanned, plus $0.80 per 100 more**`,
    ],
  ];
  return ['| item | price | month |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
