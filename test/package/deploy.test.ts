import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { costTable, deployOutput, stackFigures } from '../../scripts/docs/deployFigures.ts';
import { documentedBlock } from '../../scripts/docs/generate.ts';
import { ROOT, type Template } from '../../tools/local/packaged.ts';
import {
  actionsOf,
  blockAfter,
  copies,
  copyOfRepository,
  deployDoc,
  dev,
  editStages,
  POLICY_TEMPLATE,
  packagedDevBeforeAll,
  type Run,
  roleStatements,
  type Statement,
  sls,
  templateIn,
} from '../support/deployRehearsal.ts';
import { packagedOnce } from '../support/packagedOnce.ts';

packagedDevBeforeAll();

describe('the deployer policy (deploy/deployer-policy.template.json)', () => {
  type ManagedPolicy = { Properties: { PolicyDocument: { Statement: Statement[] } } };
  const template = JSON.parse(readFileSync(POLICY_TEMPLATE, 'utf8')) as {
    Resources: { DeployerPolicy: ManagedPolicy; OrganizationDeployerPolicy: ManagedPolicy };
  };
  const policy = template.Resources.DeployerPolicy.Properties.PolicyDocument;
  // What an organization's central account attaches besides: the bus, the StackSets, the queue mapping.
  const organizationPolicy = template.Resources.OrganizationDeployerPolicy.Properties.PolicyDocument;
  const statements = [...policy.Statement, ...organizationPolicy.Statement];
  const granted = new Set(actionsOf(statements));

  /** What CloudFormation calls to create and delete each resource type the stack holds. */
  const needs: Record<string, string[]> = {
    'AWS::CloudWatch::Alarm': ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
    'AWS::CloudWatch::Dashboard': ['cloudwatch:PutDashboard', 'cloudwatch:DeleteDashboards'],
    'AWS::DynamoDB::Table': ['dynamodb:CreateTable', 'dynamodb:DeleteTable', 'dynamodb:UpdateTimeToLive'],
    'AWS::Events::Rule': ['events:PutRule', 'events:PutTargets', 'events:DeleteRule'],
    'AWS::IAM::Role': ['iam:CreateRole', 'iam:PutRolePolicy', 'iam:DeleteRole', 'iam:PassRole'],
    'AWS::KMS::Key': ['kms:CreateKey', 'kms:EnableKeyRotation', 'kms:ScheduleKeyDeletion'],
    'AWS::Lambda::EventInvokeConfig': ['lambda:PutFunctionEventInvokeConfig'],
    'AWS::Lambda::Function': ['lambda:CreateFunction', 'lambda:DeleteFunction'],
    'AWS::Lambda::Permission': ['lambda:AddPermission', 'lambda:RemovePermission'],
    'AWS::Lambda::Version': ['lambda:PublishVersion'],
    'AWS::Logs::LogGroup': ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteLogGroup'],
    'AWS::S3::Bucket': ['s3:CreateBucket', 's3:DeleteBucket', 's3:PutEncryptionConfiguration'],
    'AWS::S3::BucketPolicy': ['s3:PutBucketPolicy'],
    'AWS::SNS::Subscription': ['sns:Subscribe', 'sns:Unsubscribe'],
    'AWS::SNS::Topic': ['sns:CreateTopic', 'sns:DeleteTopic'],
    'AWS::SQS::Queue': ['sqs:CreateQueue', 'sqs:DeleteQueue'],
    'AWS::SQS::QueuePolicy': ['sqs:SetQueueAttributes'],
    // An organization's central stack (docs/ORGANIZATION.md): its bus, the bus's policy, the member
    // StackSets as delegated administrator and the idle scan's queue mapping.
    'AWS::Events::EventBus': ['events:CreateEventBus', 'events:DescribeEventBus', 'events:DeleteEventBus'],
    'AWS::Events::EventBusPolicy': ['events:PutPermission', 'events:RemovePermission'],
    'AWS::CloudFormation::StackSet': [
      'cloudformation:CreateStackSet',
      'cloudformation:UpdateStackSet',
      'cloudformation:DeleteStackSet',
      'cloudformation:DescribeStackSet',
      'cloudformation:DescribeStackSetOperation',
      'cloudformation:CreateStackInstances',
      'cloudformation:DeleteStackInstances',
      'cloudformation:ListStackInstances',
      'organizations:ListDelegatedAdministrators',
    ],
    'AWS::Lambda::EventSourceMapping': [
      'lambda:CreateEventSourceMapping',
      'lambda:GetEventSourceMapping',
      'lambda:DeleteEventSourceMapping',
    ],
  };

  /** A packaged stage's resource types, each with what the policy lacks of what it needs. */
  const missingFor = (template: Template): [string, string[]][] =>
    [...new Set(Object.values(template.Resources).map((r) => r.Type))]
      .sort()
      .map((type): [string, string[]] => [
        type,
        needs[type] === undefined
          ? ['(unknown type: add its actions to the policy and to this table)']
          : (needs[type] ?? []).filter((action) => !granted.has(action)),
      ])
      .filter(([, missing]) => missing.length > 0);

  it('grants what every resource type of the packaged stack needs', () => {
    // Arrange
    const types = [...new Set(Object.values(dev.template.Resources).map((r) => r.Type))].sort();
    // Assert: a new resource type needs its actions in the policy and in this table.
    for (const type of types) {
      expect(
        needs[type],
        `${type}: add its actions to deploy/deployer-policy.template.json and here`,
      ).toBeDefined();
      for (const action of needs[type] ?? []) expect(granted, `${type} needs ${action}`).toContain(action);
    }
    expect(granted).toContain('ssm:DescribeDocument');
    expect(granted).toContain('cloudformation:CreateChangeSet');
  });

  it("grants what every resource type of an organization's central stack (stage org) needs", async () => {
    // Arrange
    const { template } = await packagedOnce('org');
    // Assert: the bus, its policy, the StackSets and the scan queue's mapping included.
    expect(missingFor(template)).toEqual([]);
  }, 300_000);

  it('refuses to pass, for the organization stage, a policy without a StackSets action the stack needs', async () => {
    // Arrange
    const { template } = await packagedOnce('org');
    granted.delete('cloudformation:CreateStackInstances');
    try {
      // Act
      const missing = missingFor(template);
      // Assert
      expect(missing).toEqual([['AWS::CloudFormation::StackSet', ['cloudformation:CreateStackInstances']]]);
    } finally {
      granted.add('cloudformation:CreateStackInstances');
    }
  }, 300_000);

  it("keeps each managed policy within IAM's 6,144 characters (the organization's actions are a second policy)", () => {
    // Assert: IAM counts the policy without whitespace (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
    for (const document of [policy, organizationPolicy]) {
      expect(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub placeholder, not a template
        JSON.stringify(document).replaceAll('${AWS::Partition}', 'aws-us-gov').length,
      ).toBeLessThanOrEqual(6144);
    }
  });

  it("names every resource in the deploying account's partition, never aws's by hand (aws-cn, aws-us-gov)", () => {
    // Arrange: every ARN the statements name, Fn::Sub strings included.
    const arns =
      JSON.stringify(statements.map((s) => [s.Resource, (s as { Condition?: unknown }).Condition])).match(
        /arn:[^"]*/g,
      ) ?? [];
    // Assert
    expect(arns.length).toBeGreaterThan(0);
    for (const arn of arns) expect(arn, arn).toMatch(/^arn:\$\{AWS::Partition\}:/);
  });

  it('is a template cfn-lint passes', () => {
    // Act
    const lint = (() => {
      try {
        execFileSync('cfn-lint', [POLICY_TEMPLATE], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${process.env.HOME}/.pyenv/shims:${process.env.PATH}` },
        });
        return '';
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    })();
    // Assert
    expect(lint).toBe('');
  }, 120_000);

  it("becomes, through DEPLOY.md's jq line, the same policy with the partition written in", () => {
    // Arrange: the doc's command for the aws-us-gov partition, run where the repository is.
    const line = blockAfter('Without CloudFormation', 'sh')
      .split('\n')
      .find((l) => l.startsWith('jq '));
    if (line === undefined) throw new Error('no jq line after "Without CloudFormation" in DEPLOY.md');
    const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-policy-'));
    copies.push(dir);
    const command = line.replace('--arg partition aws ', '--arg partition aws-us-gov ');
    // Act
    execFileSync('bash', [
      '-c',
      `cd ${JSON.stringify(ROOT)} && ${command.replace('> deployer-policy.json', `> ${join(dir, 'policy.json')}`)}`,
    ]);
    const plain = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8')) as { Statement: Statement[] };
    // Assert
    expect(JSON.stringify(plain)).not.toContain('Fn::Sub');
    expect(JSON.stringify(plain)).toBe(
      JSON.stringify(policy).replace(
        /\{"Fn::Sub":"arn:\$\{AWS::Partition\}:([^"]*)"\}/g,
        '"arn:aws-us-gov:$1"',
      ),
    );
  });

  it('has no wildcard action and keeps every statement with resources to the stack by name where IAM can', () => {
    // Assert
    for (const action of granted) expect(action, action).not.toMatch(/\*/);
    const unscoped = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
    expect(unscoped.sort()).toEqual([
      'cloudformation:ListExports',
      'cloudformation:ValidateTemplate',
      'kms:CreateKey',
      // The queue mapping's calls take no resource but the function they map to, held by a condition;
      // the delegated administrator's check takes none but its service principal, held the same way.
      'lambda:CreateEventSourceMapping',
      'lambda:DeleteEventSourceMapping',
      'lambda:GetEventSourceMapping',
      'lambda:UpdateEventSourceMapping',
      'logs:DescribeLogGroups',
      'organizations:ListDelegatedAdministrators',
    ]);
    const conditioned = statements.filter(
      (s) => s.Resource === '*' && JSON.stringify(s.Action).match(/EventSourceMapping|Delegated/),
    );
    expect(conditioned.every((s) => (s as { Condition?: unknown }).Condition !== undefined)).toBe(true);
  });
});

describe('the walkthrough (docs/DEPLOY.md) against sls package', () => {
  it('shows a deploy that names the outputs and the functions the packaged template has (generated)', () => {
    // Arrange
    const shown = documentedBlock(deployDoc, 'deploy-output') ?? '';
    const stackOutputs = shown.slice(shown.indexOf('Stack Outputs:'));
    const functions = shown.slice(shown.indexOf('functions:'), shown.indexOf('Stack Outputs:'));
    const packaged = Object.values(dev.template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => String(r.Properties.FunctionName).replace(/^ops-autopilot-dev-/, ''));
    // Act
    const outputNames = [...stackOutputs.matchAll(/^ {2}(\w+): /gm)].map((m) => m[1]);
    const functionNames = [...functions.matchAll(/^ {2}(\w+): ops-autopilot-prod-(\w+) /gm)];
    // Assert
    expect(shown, 'the deploy output of DEPLOY.md is stale: run npm run docs').toBe(deployOutput());
    expect(outputNames.length).toBeGreaterThan(0);
    for (const name of outputNames) expect(Object.keys(dev.template.Outputs), name).toContain(name);
    expect(functionNames.map((m) => m[1]).sort()).toEqual(packaged.sort());
    for (const m of functionNames) expect(m[2]).toBe(m[1]);
  });

  it('shows the line sls package prints when it skips the document check', () => {
    // Assert
    expect(dev.run.out).toContain(
      'ops-autopilot: runbook documents not checked (offline package); sls deploy checks them with ssm:DescribeDocument',
    );
    expect(deployDoc).toContain(
      'ops-autopilot: runbook documents not checked (offline package); sls deploy checks them with ssm:DescribeDocument',
    );
  });

  it('counts, in its cost estimate, the alarms, rules, dashboards and keys the packaged stack has', () => {
    // Arrange: the forward rules and their alarms exist only in a us-east-1 stack that forwards global
    // events (a condition); the estimate counts them apart.
    const count = (type: string, conditional: boolean) =>
      Object.values(dev.template.Resources).filter(
        (r) => r.Type === type && ((r as { Condition?: string }).Condition !== undefined) === conditional,
      ).length;
    // Act
    const figures = stackFigures();
    // Assert
    expect(documentedBlock(deployDoc, 'cost'), 'the cost table of DEPLOY.md is stale: run npm run docs').toBe(
      costTable(),
    );
    expect(figures).toEqual({
      functions: count('AWS::Lambda::Function', false),
      alarms: count('AWS::CloudWatch::Alarm', false),
      rules: count('AWS::Events::Rule', false),
      dashboards: count('AWS::CloudWatch::Dashboard', false),
      keys: count('AWS::KMS::Key', false),
      conditional: { alarms: count('AWS::CloudWatch::Alarm', true), rules: count('AWS::Events::Rule', true) },
    });
    expect(figures.conditional.alarms).toBeGreaterThan(0);
    expect(costTable()).toContain(`| $${(figures.alarms * 0.1).toFixed(2)} |`);
  });

  it('names, under Remove, every resource type the stack keeps when it is removed', () => {
    // Arrange
    const remove = deployDoc.slice(deployDoc.indexOf('## 10. Remove'));
    // Act
    const kept = Object.values(dev.template.Resources)
      .filter((r) => (r as unknown as { DeletionPolicy?: string }).DeletionPolicy === 'Retain')
      .map((r) => r.Type);
    // Assert
    expect(kept.length).toBeGreaterThan(0);
    for (const type of new Set(kept)) expect(remove, type).toContain(`\`${type}\``);
  });

  it('keeps the state table on remove and on replacement by default', () => {
    // Assert
    const table = dev.template.Resources.StateTable as unknown as Record<string, unknown>;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  it("fits the automation role to AWS-RestartEC2Instance when that is the stage's only runbook", () => {
    // Assert
    const actions = actionsOf(roleStatements(dev.template, 'RunbookAutomationRole'));
    expect(actions.sort()).toEqual([
      'ec2:DescribeInstanceStatus',
      'ec2:DescribeInstances',
      'ec2:StartInstances',
      'ec2:StopInstances',
    ]);
  });
});

describe('a stage edited as the walkthrough says', () => {
  let copy: string;
  let packaged: { run: Run; template: Template & { Outputs: Record<string, unknown> } };

  beforeAll(async () => {
    // Arrange: a stage holding only the rule of DEPLOY.md step 6, packaged with retainStateTable=false.
    copy = copyOfRepository();
    const rule = blockAfter('## 6. Add a rule', 'ts');
    editStages(copy, (source) =>
      source.replace(
        'export const stages: Record<string, StageConfigInput> = {\n',
        `export const stages: Record<string, StageConfigInput> = {\n  walkthrough: { dryRun: true, alarmRules: [${rule}] },\n`,
      ),
    );
    const out = join(copy, '.serverless');
    const run = await sls(copy, [
      'package',
      '--stage',
      'walkthrough',
      '--param=retainStateTable=false',
      '--package',
      out,
    ]);
    if (run.code !== 0) throw new Error(run.out);
    packaged = { run, template: templateIn(out) };
  }, 240_000);

  it("gives the automation role the rule's declared actions and nothing else", () => {
    // Act
    const statements = roleStatements(packaged.template, 'RunbookAutomationRole');
    // Assert
    expect(statements).toEqual([
      {
        Sid: 'RebootOrdersDatabase1',
        Effect: 'Allow',
        Action: ['rds:RebootDBInstance', 'rds:DescribeDBInstances'],
        Resource: [
          {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
            'Fn::Sub': 'arn:${AWS::Partition}:rds:${AWS::Region}:${AWS::AccountId}:db:orders-db-*',
          },
        ],
      },
    ]);
  });

  it('lets onAlarm start that document only', () => {
    // Arrange
    const onAlarmRole = Object.entries(packaged.template.Resources).find(
      ([id, r]) => r.Type === 'AWS::IAM::Role' && id.startsWith('OnAlarm'),
    )?.[0] as string;
    // Act
    const start = roleStatements(packaged.template, onAlarmRole).find(
      (s) => s.Sid === 'StartConfiguredRunbooks',
    );
    // Assert
    expect(JSON.stringify(start?.Resource)).toContain('automation-definition/AWS-RebootRdsInstance:*');
    expect(JSON.stringify(start?.Resource)).not.toContain('AWS-RestartEC2Instance');
  });

  it('lets sls remove delete the state table when retainStateTable is false', () => {
    // Assert
    const table = packaged.template.Resources.StateTable as unknown as Record<string, unknown>;
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.UpdateReplacePolicy).toBe('Delete');
  });

  it('passes cfn-lint', () => {
    // Act
    const lint = (() => {
      try {
        execFileSync('cfn-lint', [join(copy, '.serverless', 'cloudformation-template-update-stack.json')], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${process.env.HOME}/.pyenv/shims:${process.env.PATH}` },
        });
        return '';
      } catch (error) {
        return String((error as { stdout?: string }).stdout ?? error);
      }
    })();
    // Assert
    expect(lint).toBe('');
  }, 120_000);
});
