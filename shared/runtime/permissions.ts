/**
 * The IAM actions a function's runtime needs whatever it does: its logs and traces, its idempotency
 * records, action log and rate guard in the state table, its failure queue (Lambda's on-failure
 * destination), the kill switch parameter, and the page topic (the rate guard pages when it trips).
 */
export const RUNTIME_PERMISSIONS = [
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'sqs:SendMessage',
  'ssm:GetParameter',
  'sns:Publish',
  'kms:Decrypt',
  'kms:GenerateDataKey',
] as const;

interface DeclaresPermissions {
  permissions: readonly string[];
}

/**
 * Every IAM action a function declares: the runtime's, its gather's reads and its executors' writes.
 * A function's role must hold exactly these (the package test compares them both ways).
 */
export function declaredPermissions(parts: {
  executors: Record<string, DeclaresPermissions>;
  readPermissions: readonly string[];
}): string[] {
  const all = [
    ...RUNTIME_PERMISSIONS,
    ...parts.readPermissions,
    ...Object.values(parts.executors).flatMap((e) => e.permissions),
  ];
  return [...new Set(all)].sort();
}
