/**
 * The state table, defined once: serverless.yml's StateTable must match it (the package test compares
 * them), and the emulator tests, the demo and local runs create it from here. One string key `id`, TTL
 * on `expiration`, and two sparse indexes over the action log (only action-log records carry their keys):
 *
 * - `byIncident` (`incidentKey`, `at`): every decision about one incident, in time order;
 * - `byDay` (`day` = the UTC date of `at`, `at`): the latest decisions without a scan, one day's
 *   partition at a time.
 *
 * Both project everything, so a query answers without reading the table again
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html).
 */
export const STATE_TABLE_KEY = 'id';
export const STATE_TABLE_TTL_ATTRIBUTE = 'expiration';

export const ACTION_LOG_BY_INCIDENT = 'byIncident';
export const ACTION_LOG_BY_DAY = 'byDay';

export interface StateTableDefinition {
  AttributeDefinitions: { AttributeName: string; AttributeType: 'S' }[];
  KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
  GlobalSecondaryIndexes: {
    IndexName: string;
    KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
    Projection: { ProjectionType: 'ALL' };
  }[];
}

export const stateTableDefinition: StateTableDefinition = {
  AttributeDefinitions: [
    { AttributeName: STATE_TABLE_KEY, AttributeType: 'S' },
    { AttributeName: 'incidentKey', AttributeType: 'S' },
    { AttributeName: 'day', AttributeType: 'S' },
    { AttributeName: 'at', AttributeType: 'S' },
  ],
  KeySchema: [{ AttributeName: STATE_TABLE_KEY, KeyType: 'HASH' }],
  GlobalSecondaryIndexes: [
    {
      IndexName: ACTION_LOG_BY_INCIDENT,
      KeySchema: [
        { AttributeName: 'incidentKey', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
    {
      IndexName: ACTION_LOG_BY_DAY,
      KeySchema: [
        { AttributeName: 'day', KeyType: 'HASH' },
        { AttributeName: 'at', KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    },
  ],
};
