import type { CfnValue, IamStatement } from '#shared/domain/iam.ts';
import type { Scope } from './exclusions.ts';

const INSTANCES: CfnValue = {
  'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:instance/*`,
};

/**
 * opt-in: only instances tagged ops:auto-stop=true may be stopped or tagged by this role;
 * opt-out: any but those tagged false (a missing tag satisfies a negated condition).
 */
function inScope(scope: Scope): CfnValue {
  const key = 'aws:ResourceTag/ops:auto-stop';
  return scope === 'opt-in'
    ? { StringEquals: { [key]: 'true' } }
    : { StringNotEqualsIgnoreCase: { [key]: 'false' } };
}

/**
 * What the idle stopper needs, in any function that uses it: read the fleet and its metrics, stop and
 * tag instances in scope, and write no tag but the three stop tags.
 */
export function idleStopStatements(scope: Scope): IamStatement[] {
  return [...idleStopReadStatements(), ...stopInScopeStatements(scope)];
}

/** The fleet and its metrics: these reads support no resource-level permissions. */
export const idleStopReadStatements = (): IamStatement[] => [
  {
    Sid: 'ReadFleet',
    Effect: 'Allow',
    Action: ['ec2:DescribeInstances', 'cloudwatch:GetMetricData'],
    Resource: '*',
  },
];

/** The stop executor's: stop and tag instances in scope, and write no tag but the three stop tags. */
export function stopInScopeStatements(scope: Scope): IamStatement[] {
  return [
    {
      Sid: 'StopInScope',
      Effect: 'Allow',
      Action: 'ec2:StopInstances',
      Resource: INSTANCES,
      Condition: inScope(scope),
    },
    {
      Sid: 'TagStoppedInScope',
      Effect: 'Allow',
      Action: 'ec2:CreateTags',
      Resource: INSTANCES,
      Condition: inScope(scope),
    },
    {
      Sid: 'OnlyStopTags',
      Effect: 'Deny',
      Action: 'ec2:CreateTags',
      Resource: '*',
      Condition: {
        'ForAnyValue:StringNotEquals': {
          'aws:TagKeys': ['ops:stopped-by', 'ops:stopped-at', 'ops:stop-reason'],
        },
      },
    },
  ];
}
