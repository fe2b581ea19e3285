import { z } from 'zod';
import { ApprovalRequirement } from '#shared/approval/settings.ts';
import type { RuntimeConfig } from '#shared/config.ts';
import type { Intent } from '#shared/domain/intent.ts';
import { Severity } from '#shared/domain/severity.ts';
import { ChangeCalendars, calendarsOf } from '#shared/runtime/changeCalendarSettings.ts';
import type { FreezeScope } from '#shared/runtime/changeFreeze.ts';
import { functionSettings } from '#shared/stageSettings.ts';
import { DEFAULT_SCANNER_USER_AGENTS } from './detections/readOnly.ts';
import type { RemediationKind } from './detections/remediations.ts';
import { DETECTIONS, type DetectionName as DeclaredName } from './detections.ts';
import { SIGMA_RULES } from './sigma/detection.ts';

/**
 * onCloudTrail's stage settings: what each detection does on a stage. config/stageConfig.ts composes them
 * into a stage's configuration. Only zod, pure domain modules and the detections' declarations (pure)
 * here: the configuration imports this file while it loads, so nothing here may import the
 * configuration back.
 */

/** `page`: page and record; `record`: action log and metric only; `off`: as if the detection did not exist. */
export const DetectionAction = z.enum(['page', 'record', 'off']);
export type DetectionAction = z.infer<typeof DetectionAction>;

/** What undoes a detection's change, when it can be undone exactly (detections/remediations.ts). */
export type { RemediationKind } from './detections/remediations.ts';

export interface DetectionDefaults {
  /** The CIS AWS Foundations Benchmark monitoring control it covers (v5.0 numbering), if any. */
  cis?: string;
  severity: Severity;
  action: DetectionAction;
  remediations?: readonly RemediationKind[];
  /** One line for the README and the page. */
  describes: string;
  /** Decided as for anyone when an AWS service acts through its service-linked role (else recorded). */
  serviceLinkedRole?: 'as-for-anyone';
}

/**
 * The catalogue, in the order detections are tried (the first that matches an event decides), read
 * from the detections' declarations (detections.ts).
 */
export const CATALOGUE = Object.fromEntries(
  DETECTIONS.map(({ name, cis, severity, action, remediations, describes, serviceLinkedRole }) => [
    name,
    {
      ...(cis ? { cis } : {}),
      severity,
      action,
      ...(remediations ? { remediations } : {}),
      describes,
      ...(serviceLinkedRole ? { serviceLinkedRole } : {}),
    },
  ]),
) as Record<DetectionName, DetectionDefaults>;

export type DetectionName = DeclaredName;
export const DETECTION_NAMES: DetectionName[] = DETECTIONS.map((d) => d.name);
export const DetectionName = z.enum(DETECTION_NAMES as [DetectionName, ...DetectionName[]]);

const DetectionSetting = z.strictObject({
  action: DetectionAction.optional(),
  severity: Severity.optional(),
  /** Undo the change (only detections with a remediation); off unless a stage turns it on. */
  remediate: z.boolean().optional(),
  /** SSM Change Calendars that hold its remediation back while CLOSED, besides the stage's `changeCalendars`. */
  changeCalendars: ChangeCalendars.optional(),
  /** A security remediation that acts through a change freeze (never through the kill switch or dry-run). */
  ignoreChangeFreeze: z.boolean().optional(),
  /** `'required'`: its remediation waits for a person's approval (approveAction) instead of running. */
  approval: ApprovalRequirement,
});

export const CloudTrailSettings = z.strictObject({
  detections: z.partialRecord(DetectionName, DetectionSetting).default({}),
  /**
   * Accounts a trust policy, a share or a resource policy may name without paging (your other accounts,
   * a vendor you trust): anything else outside the record's own account is foreign.
   */
  trustedAccounts: z
    .array(z.string().regex(/^\d{12}$/, { message: 'must be a 12-digit AWS account id' }))
    .max(1000)
    .default([]),
  /** Your AWS Organization's id: a policy narrowed by aws:PrincipalOrgID to it admits no one foreign. */
  organizationId: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/, { message: 'must be an organization id (o- and 10 to 32 characters)' })
    .optional(),
  /**
   * The second, narrow rule for read-only calls (off by default): EventBridge delivers read-only
   * management events only to a rule in state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html).
   */
  readOnlyRule: z
    .strictObject({
      enabled: z.boolean().default(false),
      /**
       * User agents of secret scanners that verify a found key with GetCallerIdentity, matched as a
       * substring (case-sensitive, as EventBridge's wildcard is); each becomes one wildcard in the rule.
       */
      scannerUserAgents: z
        .array(
          z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._/-]{2,63}$/, {
            message: 'must be 3 to 64 letters, digits, spaces or . _ / - (no wildcard characters)',
          }),
        )
        .min(1)
        .max(20)
        .default([...DEFAULT_SCANNER_USER_AGENTS]),
    })
    .prefault({}),
  /**
   * Who reads secrets as a matter of course: IAM role or user ARNs (an assumed role by its role's ARN).
   * A GetSecretValue or BatchGetSecretValue by anyone else is unusual (secret-read-by-unusual-principal).
   */
  secretReaders: z
    .array(
      z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/, {
        message: 'must be an IAM role or user ARN',
      }),
    )
    .max(200)
    .default([]),
  /** A Sigma rule's action by its id, instead of its level's (critical/high page, medium/low record). */
  sigma: z.record(z.string().max(64), DetectionAction).default({}),
});
export type CloudTrailSettings = z.infer<typeof CloudTrailSettings>;

/** A detection as a stage runs it: the catalogue's defaults with the stage's overrides. */
export interface DetectionSettings {
  name: DetectionName;
  cis?: string;
  severity: Severity;
  action: DetectionAction;
  /** What undoes its change, one per kind of resource it covers; empty when nothing can. */
  remediations: readonly RemediationKind[];
  remediate: boolean;
  /** A call through an AWS service-linked role: `recorded` (not paged or remediated) or as for anyone. */
  serviceLinkedRole: 'recorded' | 'as-for-anyone';
}

export function detectionSettings(settings: CloudTrailSettings, name: DetectionName): DetectionSettings {
  const d: DetectionDefaults = CATALOGUE[name];
  const o = settings.detections[name] ?? {};
  return {
    name,
    ...(d.cis ? { cis: d.cis } : {}),
    severity: o.severity ?? d.severity,
    action: o.action ?? d.action,
    remediations: d.remediations ?? [],
    remediate: d.remediations !== undefined && o.remediate === true,
    serviceLinkedRole: d.serviceLinkedRole ?? 'recorded',
  };
}

/** What a stage's detection settings get wrong as a whole; undefined when nothing. */
export function cloudTrailSettingsIssue(settings: CloudTrailSettings): string | undefined {
  // A misspelt id would silently leave the rule at its level: only the rules detections/ holds.
  const ruleIds = new Set(SIGMA_RULES.map((r) => r.id));
  const unknown = Object.keys(settings.sigma).find((id) => !ruleIds.has(id));
  if (unknown !== undefined) {
    return `sigma: no Sigma rule in detections/ has id "${unknown}" (ids: ${[...ruleIds].join(', ') || 'none'})`;
  }
  for (const [name, o] of Object.entries(settings.detections) as [
    DetectionName,
    typeof DetectionSetting._output,
  ][]) {
    // A failed call must never page: the unauthorized-call detection counts them, nothing more.
    if (name === 'unauthorized-api-call' && o.action === 'page') {
      return 'detection unauthorized-api-call may only record or be off: failed calls never page';
    }
    const d: DetectionDefaults = CATALOGUE[name];
    if (o.remediate === true && d.remediations === undefined) {
      return `detection ${name} has no remediation; remediate must not be set`;
    }
    if (
      (o.changeCalendars !== undefined || o.ignoreChangeFreeze !== undefined) &&
      d.remediations === undefined
    ) {
      return `detection ${name} has no remediation; changeCalendars and ignoreChangeFreeze must not be set`;
    }
    if (o.approval !== undefined && d.remediations === undefined) {
      return `detection ${name} has no remediation; approval must not be set`;
    }
    if (o.ignoreChangeFreeze === true && o.changeCalendars !== undefined) {
      return `detection ${name}: ignoreChangeFreeze acts through every calendar; changeCalendars must not be set with it`;
    }
  }
  return undefined;
}

/** A remediation is held by its detection's calendars too, or by none when it ignores the freeze. */
export function cloudTrailFreezeScope(
  intent: Intent,
  config: { cloudTrail: CloudTrailSettings },
): FreezeScope {
  if (!('detection' in intent)) return {};
  const own = config.cloudTrail.detections[intent.detection as DetectionName];
  if (own?.ignoreChangeFreeze === true) return { ignoreChangeFreeze: true };
  return { calendars: own?.changeCalendars ?? [] };
}

/**
 * The calendars onCloudTrail may read on a stage: those of the remediations it runs, none when it runs
 * none or when each ignores the freeze (its role's grant).
 */
export function cloudTrailChangeCalendars(stage: {
  changeCalendars: readonly string[];
  cloudTrail: CloudTrailSettings;
}): string[] {
  const held = DETECTION_NAMES.filter((n) => {
    const d = detectionSettings(stage.cloudTrail, n);
    return d.remediate && d.action !== 'off' && stage.cloudTrail.detections[n]?.ignoreChangeFreeze !== true;
  });
  if (held.length === 0) return [];
  return calendarsOf(
    stage.changeCalendars,
    ...held.map((n) => stage.cloudTrail.detections[n]?.changeCalendars),
  );
}

/** The remediations a stage turns on (their IAM is granted only then). */
export function enabledRemediations(settings: CloudTrailSettings): RemediationKind[] {
  return DETECTION_NAMES.map((n) => detectionSettings(settings, n))
    .filter((d) => d.remediate && d.action !== 'off')
    .flatMap((d) => d.remediations);
}

/** Whether a remediation the stage runs waits for approval (its role then records pending actions). */
export function remediationsAwaitApproval(settings: CloudTrailSettings): boolean {
  return DETECTION_NAMES.some((n) => {
    const d = detectionSettings(settings, n);
    return d.remediate && d.action !== 'off' && settings.detections[n]?.approval === 'required';
  });
}

/** onCloudTrail's key in a stage: its detections, checked as a whole. */
export const settings = functionSettings({ cloudTrail: CloudTrailSettings.prefault({}) }, (s) => {
  const issue = cloudTrailSettingsIssue(s.cloudTrail);
  return issue === undefined ? undefined : `cloudTrail: ${issue}`;
});

/** The stage settings onCloudTrail reads (its own): its spec's `settings`, all the runtime parses for it. */
export const specSettings = [settings] as const;
/** onCloudTrail's configuration: the shared keys and those of its spec's settings, no other function's. */
export type CloudTrailConfig = RuntimeConfig<typeof specSettings>;
