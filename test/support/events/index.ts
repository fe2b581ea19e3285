// One builder per event source: each starts from a named fixture under events/ and changes only the
// fields a test names, on a fresh copy (docs/testing.md, "Build an event").
export {
  type AlarmStateChange,
  type AlarmStateChangeOverrides,
  alarmStateChange,
} from './alarmStateChange.ts';
export {
  type AutomationExecutionOverrides,
  type AutomationExecutionStatusChange,
  automationExecutionStatusChange,
} from './automationExecutionStatusChange.ts';
export {
  type BackupJobFailureOverrides,
  type BackupJobStateChange,
  backupJobFailure,
} from './backupJobFailure.ts';
export {
  anotherRecordOf,
  type CloudTrailRecord,
  type CloudTrailRecordOverrides,
  cloudTrailRecord,
} from './cloudTrailRecord.ts';
export { type CostAnomaly, type CostAnomalyOverrides, costAnomaly } from './costAnomaly.ts';
export { anotherDeliveryOf, type EnvelopeOverrides } from './fixture.ts';
export { type ScheduledScan, scheduledScan } from './scheduledScan.ts';
