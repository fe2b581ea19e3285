import { isWorld } from './cidr.ts';
import { field, isObj, type Json, type Obj, policyDocument, statements, values } from './json.ts';

/**
 * Resource policies: who a statement lets in. Shared by the S3 detection (storage.ts) and the other
 * services' resource policies (resourcePolicies.ts), so both read "public" the same way.
 */

/** `*`, or `*` as an AWS account or S3 canonical user: anyone at all. */
export const isPublicPrincipal = (p: Json) =>
  p === '*' || values(field(p, 'AWS')).includes('*') || values(field(p, 'CanonicalUser')).includes('*');

/** Condition keys that narrow who may act (to an account, organization, ARN, VPC or endpoint). */
const WHO_KEYS = new Set([
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:principalaccount',
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalarn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:userid',
  's3:dataaccesspointaccount',
  's3:dataaccesspointarn',
]);
/** Operators whose match narrows the request; negated and ...IfExists operators let others through. */
const NARROWING = /^(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike|IpAddress)$/;

/**
 * Whether a statement's Condition keeps the public out, as S3's own public-policy check reads it: a
 * narrowing operator on a who-key with a value that is not a wildcard, or a source IP range that is
 * not the world. Any other condition (secure transport, a /0 source) leaves the statement public.
 */
export function restrictsWho(condition: Json): boolean {
  if (!isObj(condition)) return false;
  for (const [operator, keys] of Object.entries(condition)) {
    if (!NARROWING.test(operator) || !isObj(keys)) continue;
    for (const [key, value] of Object.entries(keys)) {
      const vs = values(value as Json).map((v) => String(v));
      if (vs.length === 0) continue;
      const k = key.toLowerCase();
      if (k === 'aws:sourceip' && operator === 'IpAddress' && vs.every((v) => !isWorld(v))) return true;
      if (WHO_KEYS.has(k) && vs.every((v) => v !== '*' && v !== '')) return true;
    }
  }
  return false;
}

/**
 * The statements of a policy (an object or CloudTrail's JSON string) that allow anyone with nothing
 * narrowing who: empty when none, and when the policy cannot be read (unreadable is not public).
 */
export const publicStatements = (policy: Json): Obj[] =>
  statements(policyDocument(policy)).filter(
    (s) => s.Effect === 'Allow' && isPublicPrincipal(s.Principal) && !restrictsWho(s.Condition),
  );
