import { z } from 'zod';

/**
 * A stage's `organization`: the central stack of an AWS Organization (docs/ORGANIZATION.md). Set, the
 * stage packages the organization's event bus and the two member StackSets; unset (every single-account
 * stage), nothing of it is in the stack. Every field reaches a policy or a deployment target, so each
 * is bounded and its format checked.
 */

/** An AWS region name such as eu-west-1. */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
/**
 * An organization id, an OU id or a root id, as AWS Organizations formats them
 * (https://docs.aws.amazon.com/organizations/latest/APIReference/API_OrganizationalUnit.html).
 */
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const DEPLOYMENT_TARGET = /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/;

/** A list whose entries must be distinct: a duplicate is a typo, and StackSets refuses it. */
const distinct = <T extends z.ZodType<string>>(item: T, max: number, what: string) =>
  z
    .array(item)
    .min(1, { error: `needs at least one ${what}` })
    .max(max, { error: `holds at most ${max} ${what}s` })
    .refine((list) => new Set(list).size === list.length, { error: `lists a ${what} twice` });

export const OrganizationSettings = z.strictObject({
  /** The organization (`o-...`): the bus policy and the member role's trust require it (aws:PrincipalOrgID). */
  id: z
    .string()
    .regex(ORGANIZATION_ID, { error: 'must be an organization id, o- and 10 to 32 letters or digits' }),
  /** The OUs (`ou-...`) or the root (`r-...`) whose accounts get the member roles and rules. */
  ous: distinct(
    z
      .string()
      .regex(DEPLOYMENT_TARGET, { error: 'must be an OU id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)' }),
    // A StackSets operation takes a bounded list of targets; 50 OUs are more than any layout here needs.
    50,
    'OU',
  ),
  /** The regions whose events the member rules forward to the organization's bus. */
  regions: distinct(
    z.string().regex(REGION, { error: 'must be a region name such as eu-west-1' }),
    20,
    'region',
  ),
  /**
   * The central stack's region: the organization's bus, and the one region of the member roles (IAM is
   * global: two regions would create the same roles twice). `sls package` refuses another region.
   */
  homeRegion: z.string().regex(REGION, { error: 'must be a region name such as eu-west-1' }),
  /** What a member account does until told otherwise: `live`, `dry-run` or `off`. */
  defaultMode: z.enum(['live', 'dry-run', 'off']),
  /**
   * How long the list of served accounts (the member-roles StackSet's current instances) is kept before
   * ListStackInstances is asked again: an account that joins or leaves is served or refused within it.
   * At most 300 s, so an offboarded account stops being acted in within five minutes.
   */
  accountsCacheSeconds: z
    .number({ error: 'must be a number of seconds' })
    .int({ error: 'must be a whole number of seconds' })
    .min(1, { error: 'must be at least 1 second' })
    .max(300, { error: 'must be at most 300 seconds (an offboarded account is refused within it)' })
    .default(300),
  /**
   * The stage-wide ceiling of the hourly stop budget: instances stopped in any rolling hour over every
   * account together. Each account has its own `idleStop.maxStopsPerHour` (one member's storm cannot
   * spend another's); this bounds what all of them stop at once.
   */
  maxStopsPerHour: z
    .number({ error: 'must be a number of instances' })
    .int({ error: 'must be a whole number of instances' })
    .min(1, { error: 'must be at least 1 instance' })
    .max(1000, { error: 'must be at most 1000 instances (the budget record holds every claim of the hour)' })
    .default(100),
});
export type OrganizationSettings = z.infer<typeof OrganizationSettings>;

/** What a member account does: act, only say what it would do, or nothing at all (the action log only). */
export type AccountMode = OrganizationSettings['defaultMode'];
