/**
 * Fixtures a rule routes that the schema refuses, with the refusal (the demo and the tests both read it), and why the sample is short, not
 * the schema: AWS's CreateUser record (eventVersion 1.0, 2014) predates `eventID`, which every record
 * EventBridge delivers today carries and which keys a CloudTrail page's idempotency.
 */
export const ROUTED_BUT_REFUSED: Record<string, string> = {
  'onCloudTrail/aws-docs/records/iam-create-user.json':
    'detail.eventID: Invalid input: expected string, received undefined',
};
