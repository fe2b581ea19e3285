import { z } from 'zod';

/** AWS formats that an event field must match before it may become a runbook parameter. */
export const ParameterFormat = z.enum([
  'ec2-instance-id',
  'security-group-id',
  's3-bucket-name',
  'iam-role-arn',
  'db-instance-id',
  'name',
]);
export type ParameterFormat = z.infer<typeof ParameterFormat>;

/**
 * AWS identifier formats. Anything taken from an event must match one before it reaches a runbook:
 * nothing from an event flows into automation raw.
 */
const patterns: Record<ParameterFormat, RegExp> = {
  'ec2-instance-id': /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/,
  'security-group-id': /^sg-(?:[0-9a-f]{8}|[0-9a-f]{17})$/,
  // S3 general purpose bucket naming rules: 3-63 chars, lowercase, digits, dots, hyphens; no IP form.
  's3-bucket-name': /^(?!\d{1,3}(?:\.\d{1,3}){3}$)(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  'iam-role-arn': /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
  'db-instance-id': /^[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*$/,
  name: /^[A-Za-z0-9_.:/=+@-]{1,255}$/,
};

export function matchesFormat(format: ParameterFormat, value: string): boolean {
  if (format === 'db-instance-id' && value.length > 63) return false;
  return patterns[format].test(value);
}
