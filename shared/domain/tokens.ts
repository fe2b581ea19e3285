import { createHash } from 'node:crypto';

/**
 * A UUID-shaped token derived from a key (StartAutomationExecution's ClientToken must be a UUID:
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_StartAutomationExecution.html).
 * The same key always gives the same token, so a duplicate delivery cannot start a second execution.
 */
export function tokenFromKey(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  // Version 5-like layout: set the version nibble to 5 and the variant bits to 10xx.
  const variant = ((Number.parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
