import {
  SERVICE,
  SHARED_STATE_RECORDS,
  type SharedStateGrant,
  type SharedStateKind,
  sharedStateKeyOf,
  sharedStatePrefixOf,
} from '#shared/state/sharedRecords.ts';

/** A CloudFormation value as the compiled template holds it: a literal or an intrinsic function. */
type Cfn = string | number | boolean | Cfn[] | { [key: string]: Cfn };

export interface RuntimeStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: Cfn;
  Condition?: Cfn;
}

/** What a function's role holds beyond the runtime's own: on the state table, and the calendars it checks. */
export interface StateTableUse {
  /** Actions on its own records beyond the runtime's (a transaction's condition check). */
  stateTableActions?: readonly string[];
  /** The records it shares with other functions (sharedRecords.ts). */
  sharedState?: readonly SharedStateGrant[];
  /** The change calendars its live actions are checked against (names or ARNs); none: no statement. */
  changeCalendars?: readonly string[];
  /** Other functions' records it writes as that function (approveAction runs an action as its owner). */
  actsFor?: readonly ActingFor[];
}

/**
 * Acting as another function of the stage on its own records (its key prefix): the actions every
 * runtime takes on its records, and that function's `stateTableActions`.
 */
export interface ActingFor {
  /** The function as the registry names it (`onAlarm`). */
  functionName: string;
  stateTableActions: readonly string[];
}

/** What every function's runtime may do on its own records (idempotency, pages, action log, rate guard). */
const OWN_RECORD_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** The one action the change freeze needs (shared/runtime/changeFreeze.ts). */
export const CHANGE_CALENDAR_ACTION = 'ssm:GetCalendarState';

/**
 * Reading exactly these calendars: GetCalendarState is authorized on the calendar's SSM document, a
 * name in this account and region, or the ARN a shared calendar is named by.
 */
export function changeCalendarStatements(calendars: readonly string[]): RuntimeStatement[] {
  if (calendars.length === 0) return [];
  return [
    {
      Sid: 'ChangeCalendars',
      Effect: 'Allow',
      Action: CHANGE_CALENDAR_ACTION,
      Resource: calendars.map((c) =>
        c.startsWith('arn:')
          ? c
          : { 'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:document/${c}` },
      ),
    },
  ];
}

const stateTableArn: Cfn = { 'Fn::GetAtt': ['StateTable', 'Arn'] };
const sidOf = (kind: string): string =>
  kind.replace(/(^|-)([a-z0-9])/g, (_m, _dash: string, c: string) => c.toUpperCase());

/**
 * Records shared with another function: a prefix kind gets its own statement on exactly that prefix;
 * the exact keys share one statement granting those keys, with the actions declared for them.
 */
function sharedStateStatements(stage: string, grants: readonly SharedStateGrant[]): RuntimeStatement[] {
  const prefixes = grants.filter(({ kind }) => SHARED_STATE_RECORDS[kind] === 'prefix');
  const keys = grants.filter(({ kind }) => SHARED_STATE_RECORDS[kind] === 'key');
  return [
    ...prefixes.map(({ kind, actions }) => ({
      Sid: `SharedState${sidOf(kind)}`,
      Effect: 'Allow' as const,
      Action: [...actions],
      Resource: stateTableArn,
      Condition: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${sharedStatePrefixOf(stage)}#${kind}#*`] },
      },
    })),
    ...(keys.length === 0
      ? []
      : [
          {
            Sid: 'SharedState',
            Effect: 'Allow' as const,
            Action: [...new Set(keys.flatMap(({ actions }) => actions))],
            Resource: stateTableArn,
            Condition: {
              'ForAllValues:StringEquals': {
                'dynamodb:LeadingKeys': keys.map(({ kind }) =>
                  sharedStateKeyOf(stage, kind as SharedStateKind),
                ),
              },
            },
          },
        ]),
  ];
}

/**
 * The IAM statements every function's runtime needs, whatever it does, declared once: its logs and
 * traces, its own records in the state table (idempotency, pages, action log, rate guard) and those
 * it shares, the page topics and their key (the rate guard pages when it trips), its failure queue
 * (Lambda's on-failure destination) and the kill switch parameter. The plugin puts them first in every
 * role; RUNTIME_PERMISSIONS is their actions.
 */
export function runtimeStatements(
  stage: string,
  functionName: string,
  { stateTableActions = [], sharedState = [], changeCalendars = [], actsFor = [] }: StateTableUse = {},
): RuntimeStatement[] {
  const deployedName = `${SERVICE}-${stage}-${functionName}`;
  return [
    {
      Sid: 'Logs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${deployedName}:*`,
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
      Action: [...OWN_RECORD_ACTIONS, ...stateTableActions],
      Resource: stateTableArn,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${deployedName}#*`] } },
    },
    // Another function's records, as that function: exactly its prefix, and what it may do there.
    ...actsFor.map((owner) => ({
      Sid: `StateTableAs${sidOf(owner.functionName)}`,
      Effect: 'Allow' as const,
      Action: [...OWN_RECORD_ACTIONS, ...owner.stateTableActions],
      Resource: stateTableArn,
      Condition: {
        'ForAllValues:StringLike': {
          'dynamodb:LeadingKeys': [`${SERVICE}-${stage}-${owner.functionName}#*`],
        },
      },
    })),
    ...sharedStateStatements(stage, sharedState),
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
    // The kill switch (killSwitch.ts): this stage's mode parameter and nothing else.
    {
      Sid: 'KillSwitch',
      Effect: 'Allow',
      Action: 'ssm:GetParameter',
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:ssm:\${AWS::Region}:\${AWS::AccountId}:parameter/ops-autopilot/${stage}/mode`,
      },
    },
    // The change freeze (changeFreeze.ts): the calendars its function checks, none when there are none.
    ...changeCalendarStatements(changeCalendars),
  ];
}

/** The actions of statements, each once, in order. */
export const actionsOf = (statements: readonly RuntimeStatement[]): string[] => [
  ...new Set(statements.flatMap(({ Action }) => (typeof Action === 'string' ? [Action] : Action))),
];
