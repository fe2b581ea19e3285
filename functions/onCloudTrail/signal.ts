import { consoleLink } from '#shared/domain/partition.ts';
import type { Signal } from '#shared/domain/signal.ts';
import {
  type EventIssue,
  envelopeScope,
  type InvocationSite,
  LOCAL_ACCOUNT,
  type Observation,
} from '#shared/runtime/functionSpec.ts';
import { detect, type Finding } from './detections.ts';
import type { CloudTrailEvent } from './schema.ts';
import { type ServiceLinkedRoleCall, serviceLinkedRoleCall } from './serviceLinkedRole.ts';
import type { CloudTrailConfig } from './settings.ts';
import { DETECTION_NAMES, type DetectionSettings, detectionSettings } from './settings.ts';
import { sigmaDecision, sigmaRule } from './sigma/detection.ts';

/** What the plan needs: the detection that decides (the first matching one not `off`), and the rest. */
export interface CloudTrailFacts {
  eventId: string;
  eventName: string;
  decided?: { finding: Finding; settings: DetectionSettings };
  /** Detections that matched but were off, or came after the deciding one. */
  alsoMatched: string[];
  /** Why a remediation may not act here: the record is from another account or region. */
  outOfScope?: string;
  /** A global service's record this stack forwards to the home region, whose stack pages it. */
  forwardedTo?: string;
  /** An AWS service made the call through its service-linked role in this account. */
  serviceLinkedRole?: ServiceLinkedRoleCall;
}

/** Services whose events reach EventBridge in us-east-1 only. */
export const GLOBAL_SOURCES = new Set(['aws.iam', 'aws.sts', 'aws.signin', 'aws.organizations']);

/** Where global services' events reach EventBridge, and so the region a forwarded one names. */
export const GLOBAL_EVENTS_REGION = 'us-east-1';

/**
 * The records this function pages: of its own account (the envelope and CloudTrail's
 * `recipientAccountId`, when present) and its own region, except a global service's record from
 * us-east-1, which a us-east-1 stack forwards to its home region (`globalEventsHomeRegion`) and which
 * keeps its region there. Anything else, forwarded by a rule of another account or region, is refused.
 */
export function cloudTrailScope(event: CloudTrailEvent, site: InvocationSite): EventIssue[] {
  const forwardedGlobal = GLOBAL_SOURCES.has(event.source) && event.region === GLOBAL_EVENTS_REGION;
  const issues = envelopeScope(event, site).filter((i) => !(i.path === 'region' && forwardedGlobal));
  const recipient = event.detail.recipientAccountId;
  if (site.account !== LOCAL_ACCOUNT && recipient !== undefined && recipient !== site.account) {
    issues.push({
      path: 'detail.recipientAccountId',
      message: `the record was delivered to account ${recipient}; this function runs in ${site.account} and acts only on its own`,
    });
  }
  return issues;
}

/**
 * A remediation acts only in the account and region the function runs in: a forwarded record, or a
 * trail whose home region is elsewhere, is paged but not touched. A local invoke knows no account.
 */
export function scopeProblem(
  event: CloudTrailEvent,
  site: InvocationSite,
  target?: string,
): string | undefined {
  const region = event.detail.awsRegion;
  if (region !== site.region)
    return `the record is from region ${region}; this function runs in ${site.region}`;
  if (site.account !== LOCAL_ACCOUNT && event.account !== site.account) {
    return `the record is from account ${event.account}; this function runs in ${site.account}`;
  }
  // A target named by ARN (a trail, an RDS snapshot) must be this account and region's.
  const [, , service, targetRegion, targetAccount] = (target ?? '').split(':');
  if (
    target?.startsWith('arn:') &&
    (targetRegion !== site.region || (site.account !== LOCAL_ACCOUNT && targetAccount !== site.account))
  ) {
    return `${service === 'cloudtrail' ? 'trail' : 'resource'} ${target} is not in this account and region`;
  }
  return undefined;
}

/** Who made the call, as a page line: the principal, and for an assumed role the role behind it. */
export function who(e: CloudTrailEvent): Record<string, string> {
  const id = e.detail.userIdentity;
  const issuer = id.sessionContext?.sessionIssuer;
  const mfa =
    id.sessionContext?.attributes?.mfaAuthenticated ??
    (e.detail.eventName === 'ConsoleLogin' ? readMfaUsed(e.detail.additionalEventData) : undefined);
  return {
    principalType: id.type,
    ...(id.arn ? { principal: id.arn } : {}),
    ...(issuer?.arn ? { sessionIssuer: issuer.arn } : {}),
    ...(id.accessKeyId ? { accessKeyId: id.accessKeyId } : {}),
    mfaUsed: mfa ?? 'unknown',
  };
}

function readMfaUsed(data: unknown): string | undefined {
  const v = typeof data === 'object' && data !== null ? (data as Record<string, unknown>).MFAUsed : undefined;
  return typeof v === 'string' && /^[A-Za-z]{1,8}$/.test(v) ? v : undefined;
}

/** A short name for the principal in a title: the session's user, or the principal's last path part. */
function actor(e: CloudTrailEvent): string {
  const id = e.detail.userIdentity;
  if (id.type === 'Root') return 'root';
  const tail = (id.arn ?? '').split(':').pop() ?? '';
  return tail.replace(/^(assumed-role|user|federated-user)\//, '') || id.principalId || id.type;
}

/** The record in the CloudTrail console's event history. */
export const eventHistoryLinks = (region: string, eventId: string) =>
  consoleLink('CloudTrail event', region, 'cloudtrail', `#/events/${encodeURIComponent(eventId)}`);

const definedEvidence = (evidence: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(evidence).filter((kv): kv is [string, string] => kv[1] !== undefined));

/** Pure: the decided detection for this stage, and the signal built from it. */
export function observeCloudTrail(
  event: CloudTrailEvent,
  env: { site: InvocationSite; config: Pick<CloudTrailConfig, 'cloudTrail' | 'globalEventsHomeRegion'> },
): Observation<CloudTrailFacts> {
  const { trustedAccounts, organizationId, secretReaders, readOnlyRule } = env.config.cloudTrail;
  const findings = detect(event, DETECTION_NAMES, {
    trustedAccounts: new Set(trustedAccounts),
    ...(organizationId ? { organizationId } : {}),
    secretReaders: new Set(secretReaders),
    scannerUserAgents: readOnlyRule.scannerUserAgents,
  });
  const all = findings.map((finding) => {
    const settings = detectionSettings(env.config.cloudTrail, finding.detection);
    if (finding.detection !== sigmaRule.name) return { finding, settings };
    // A Sigma finding is the first matching rule the stage has not turned off, at that rule's level.
    const sigma = sigmaDecision(event, env.config.cloudTrail);
    return sigma
      ? {
          finding: { ...finding, what: sigma.found.what, evidence: definedEvidence(sigma.found.evidence) },
          settings: { ...settings, action: sigma.action, severity: sigma.severity },
        }
      : { finding, settings: { ...settings, action: 'off' as const } };
  });
  const decided = all.find((f) => f.settings.action !== 'off');
  const target = decided?.finding.remediation;
  const outOfScope = target
    ? scopeProblem(
        event,
        env.site,
        target.kind === 'start-logging'
          ? target.trail
          : target.kind === 'revoke-rds-snapshot-share'
            ? target.id
            : undefined,
      )
    : undefined;
  const home = env.config.globalEventsHomeRegion;
  const forwarded = home !== undefined && home !== env.site.region && GLOBAL_SOURCES.has(event.source);
  const byService = serviceLinkedRoleCall(event);
  const facts: CloudTrailFacts = {
    ...(byService ? { serviceLinkedRole: byService } : {}),
    ...(outOfScope ? { outOfScope } : {}),
    ...(forwarded ? { forwardedTo: home } : {}),
    eventId: event.detail.eventID,
    eventName: event.detail.eventName,
    ...(decided ? { decided } : {}),
    alsoMatched: all.filter((f) => f !== decided).map((f) => f.finding.detection),
  };
  return { facts, signal: cloudTrailSignal(event, facts) };
}

export function cloudTrailSignal(event: CloudTrailEvent, facts: CloudTrailFacts): Signal {
  const d = event.detail;
  const finding = facts.decided?.finding;
  const region = d.awsRegion && /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(d.awsRegion) ? d.awsRegion : event.region;
  return {
    kind: 'cloudtrail.detection',
    severity: facts.decided?.settings.severity ?? 'info',
    // The subject holds 100 characters: what happened first; who and the detection are in the body.
    title: finding ? finding.what : `${d.eventName} by ${actor(event)}`,
    summary: finding
      ? `${d.eventName} (${d.eventSource}) by ${actor(event)} at ${d.eventTime}: ${finding.what}.`
      : `${d.eventName} (${d.eventSource}) matched no detection.`,
    account: event.account,
    region,
    resources: finding?.resource ? [finding.resource] : [],
    correlationId: event.id,
    // One incident per CloudTrail record: its id is the same in every delivery, forwarded ones too.
    incidentKey: `cloudtrail:${event.account}:${d.eventID}`,
    occurredAt: d.eventTime,
    evidence: {
      ...(finding ? { detection: finding.detection } : {}),
      ...(facts.decided?.settings.cis ? { cis: facts.decided.settings.cis } : {}),
      event: `${d.eventSource} ${d.eventName}`,
      ...(finding?.evidence ?? {}),
      ...who(event),
      ...(facts.serviceLinkedRole
        ? {
            actingService: facts.serviceLinkedRole.service,
            serviceLinkedRole: facts.serviceLinkedRole.role,
          }
        : {}),
      ...(d.sourceIPAddress ? { sourceIPAddress: d.sourceIPAddress } : {}),
      ...(d.userAgent ? { userAgent: d.userAgent } : {}),
      eventTime: d.eventTime,
      eventId: d.eventID,
    },
    links: eventHistoryLinks(region, d.eventID),
  };
}
