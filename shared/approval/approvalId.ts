import { randomBytes } from 'node:crypto';

/**
 * An approval id: 128 random bits, so knowing one page's id says nothing of another's, and a fixed
 * format, so a crafted id is refused before any AWS call.
 */
export const APPROVAL_ID_PATTERN = /^ap-[0-9a-f]{32}$/;

export const newApprovalId = (): string => `ap-${randomBytes(16).toString('hex')}`;
