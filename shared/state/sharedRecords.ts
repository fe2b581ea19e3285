/**
 * The state-table records a stage's functions share, declared once. They match no function's own prefix
 * (`ops-autopilot-<stage>-<function>#`), so the plugin grants each only to the functions whose
 * deployment names it (`Deployment.sharedStateRecords`), with the actions named there. No config here:
 * the plugin reads it at package time, with no function's environment.
 */

/** The service every deployed name starts with (`ops-autopilot-<stage>-<function>`). */
export const SERVICE = 'ops-autopilot';

/**
 * Each shared record's key shape after `ops-autopilot-<stage>#shared#<kind>`: `key`, one record with
 * exactly that key; `prefix`, one record per id (`...#<kind>#<id>`), granted by that prefix.
 */
export const SHARED_STATE_RECORDS = {
  // The account's hourly stop budget, spent by every function that stops instances.
  'stop-budget': 'key',
  // The runbook executions onAlarm started (automationExecutions.ts), which onRunbookResult reads.
  automation: 'prefix',
  // Actions waiting for a person (approvals.ts): the acting function writes one, approveAction decides it.
  approval: 'prefix',
} as const satisfies Record<string, 'key' | 'prefix'>;

export type SharedRecordKind = keyof typeof SHARED_STATE_RECORDS;

/** A shared record with one exact key (`sharedStateKey`). */
export type SharedStateKind = {
  [K in SharedRecordKind]: (typeof SHARED_STATE_RECORDS)[K] extends 'key' ? K : never;
}[SharedRecordKind];

/** A function's use of a shared record: which one, and the only actions its role may take on it. */
export interface SharedStateGrant {
  kind: SharedRecordKind;
  actions: readonly string[];
}

/** What the stop budget is read and written with: a read, a conditional put. */
export const STOP_BUDGET_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem'] as const;

/** The prefix of every record a stage's functions share: `ops-autopilot-<stage>#shared`. */
export const sharedStatePrefixOf = (stage: string): string => `${SERVICE}-${stage}#shared`;

/** The shared key of a stage, for the plugin that grants it (it has no function's environment). */
export const sharedStateKeyOf = (stage: string, kind: SharedStateKind): string =>
  `${sharedStatePrefixOf(stage)}#${kind}`;

/** The shared prefix of one kind of per-id record: `ops-autopilot-<stage>#shared#<kind>#`. */
export const sharedPrefixOf = (stage: string, kind: SharedRecordKind): string =>
  `${sharedStatePrefixOf(stage)}#${kind}#`;
