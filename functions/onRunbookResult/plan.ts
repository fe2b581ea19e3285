import type { PageIntent, Plan, PlanNote } from '#shared/domain/intent.ts';
import { pageIdOf, pageIntent } from '#shared/domain/page.ts';
import type { Severity } from '#shared/domain/severity.ts';
import type { Signal } from '#shared/domain/signal.ts';
import type { StoredAutomationExecution } from '#shared/state/automationExecutions.ts';
import type { RunbookResultGathered } from './gather.ts';
import type { ResultStatus } from './schema.ts';
import type { RunbookResultConfig } from './settings.ts';
import type { RunbookResultFacts } from './signal.ts';

/** A notice about one result of one execution: what the executor claims before it pages. */
export interface RunbookResultPageIntent extends PageIntent {
  result: {
    executionId: string;
    status: ResultStatus;
    /** `escalation`: the runbook did not fix it; `update`: it succeeded, told to the paged incident. */
    notice: 'escalation' | 'update';
    pageId: string;
    /** The page of the incident the runbook was started for, when it paged. */
    earlierPageId?: string;
  };
  /**
   * An escalation planned before its record was read: its claim returns the record, and the notice is
   * worded from it then (wordedFromRecord), with these facts of the event.
   */
  awaitsRecord?: RunbookResultFacts;
}

export type RunbookResultIntent = RunbookResultPageIntent;

/** What became of the result: the metric and the manual invoke's result say it. */
export interface RunbookResultFindings {
  decision: 'escalate' | 'notify' | 'recorded' | 'ignored';
  executionId: string;
  status: ResultStatus;
  /** The incident the runbook was started for, when this system started it. */
  incidentKey?: string;
}

const ORDER: Severity[] = ['info', 'warning', 'high', 'critical'];
/** The more urgent of two severities. */
export const atLeast = (a: Severity, b: Severity): Severity => (ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b);

/** The page id of a result's notice: the same for every copy, its own per execution and status. */
export const resultPageId = (incidentKey: string, executionId: string, status: ResultStatus): string =>
  pageIdOf(incidentKey, 'incident', `runbook-result|${executionId}|${status}`);

/** Why an execution's record does not make the result ours, or undefined when it does. */
export function notOurs(
  facts: RunbookResultFacts,
  execution: StoredAutomationExecution | undefined,
): string | undefined {
  if (!execution) {
    return `execution ${facts.executionId} (${facts.document}) was not started by this system: no record of it; ignored`;
  }
  if (execution.account !== facts.account || execution.region !== facts.region) {
    return `execution ${facts.executionId} was recorded in ${execution.account}/${execution.region}, not ${facts.account}/${facts.region}; ignored`;
  }
  return undefined;
}

const alarmName = (e: StoredAutomationExecution): string => e.signal.resource?.id ?? e.signal.title;

/** Pure: escalate a runbook that did not fix its incident, or tell the incident it succeeded. */
export function planRunbookResult(input: {
  signal: Signal;
  facts: RunbookResultFacts;
  gathered: RunbookResultGathered;
  config: RunbookResultConfig;
}): Plan<RunbookResultIntent, RunbookResultFindings> {
  const { signal, facts, gathered, config: cfg } = input;
  const settings = cfg.runbookResult;
  const base = { executionId: facts.executionId, status: facts.status };
  if (gathered.readByClaim && facts.status !== 'Success') return escalationAwaitingRecord(signal, facts, cfg);
  const ignored = notOurs(facts, gathered.execution);
  const execution = gathered.execution;
  if (ignored !== undefined || execution === undefined) {
    return {
      intents: [],
      notes: [{ decision: 'skipped', reason: 'nothing-to-do', detail: ignored ?? 'ignored' }],
      findings: { ...base, decision: 'ignored' },
    };
  }
  const findings = { ...base, incidentKey: execution.incidentKey };
  const original = execution.signal;
  const earlier = execution.pageId;
  const pageId = resultPageId(execution.incidentKey, facts.executionId, facts.status);
  const startedFor =
    `started by rule ${execution.rule} for ${original.title} (state change ${original.occurredAt}, ` +
    `delivery ${execution.correlationId})`;
  const evidence: Signal['evidence'] = {
    ...signal.evidence,
    rule: execution.rule,
    originalSignal: original.title,
    originalStateChange: original.occurredAt,
    originalReason: original.summary,
    startedBy: execution.correlationId,
    earlierPageId: earlier ?? 'none recorded',
  };
  const resources = [...(original.resource ? [original.resource] : []), ...signal.resources];
  const links = [...signal.links, ...original.links];
  const earlierLine = earlier
    ? `Earlier page id: ${earlier} (the incident's page).`
    : 'No earlier page is recorded for this incident (its rule does not page, or its page had not gone out when the runbook ended).';

  if (facts.status === 'Success') {
    if (!earlier || !settings.notifySuccess) {
      const notes: PlanNote[] = [
        {
          decision: 'skipped',
          reason: 'nothing-to-do',
          detail: `runbook ${facts.document} (execution ${facts.executionId}) succeeded for ${original.title}; ${
            earlier ? "the stage's runbookResult.notifySuccess is off" : 'no page of its incident is recorded'
          }: recorded, no notice`,
        },
      ];
      return { intents: [], notes, findings: { ...findings, decision: 'recorded' } };
    }
    const page = pageIntent(
      { ...signal, incidentKey: execution.incidentKey, resources, links },
      {
        notice: 'incident',
        severity: 'info',
        reason: `The runbook ${startedFor} succeeded. ${earlierLine} This is a notice on that incident, not a new one; its own OK says when the alarm recovers.`,
        details: [earlierLine],
        nothingDone: 'Nothing more: the runbook ran to its end.',
        say: {
          title: `Runbook ${facts.document} succeeded for ${alarmName(execution)}`,
          evidence,
          resources,
        },
      },
    );
    return {
      intents: [{ ...page, result: { ...base, notice: 'update', pageId, earlierPageId: earlier } }],
      notes: [],
      findings: { ...findings, decision: 'notify' },
    };
  }

  const severity = atLeast(execution.severity, settings.minEscalationSeverity);
  const page = pageIntent(
    { ...signal, incidentKey: execution.incidentKey, resources, links },
    {
      notice: 'incident',
      severity,
      reason:
        `The runbook ${startedFor} ended ${facts.status}: the automation did not fix it. ${earlierLine} ` +
        'Someone needs to act on the original incident.',
      details: [earlierLine],
      nothingDone:
        'Nothing more: the runbook did not fix it. Open the execution (link below) to see which step failed, then act on the original incident.',
      say: {
        title: `Automation did not fix ${alarmName(execution)}: ${facts.document} ${facts.status}`,
        summary: `${signal.summary} It was ${startedFor}: ${original.summary}`,
        evidence,
        resources,
      },
    },
  );
  return {
    intents: [
      {
        ...page,
        result: { ...base, notice: 'escalation', pageId, ...(earlier ? { earlierPageId: earlier } : {}) },
      },
    ],
    notes: [],
    findings: { ...findings, decision: 'escalate' },
  };
}

/**
 * The escalation of a result whose record its claim returns: the plan knows only the event, so this
 * intent names the execution and what the claim completes it with (awaitsRecord); wordedFromRecord
 * words it from the record once claimed. Not ours (no record): the claim says so, nothing is paged.
 */
function escalationAwaitingRecord(
  signal: Signal,
  facts: RunbookResultFacts,
  cfg: RunbookResultConfig,
): Plan<RunbookResultIntent, RunbookResultFindings> {
  const base = { executionId: facts.executionId, status: facts.status };
  const page = pageIntent(signal, {
    notice: 'incident',
    severity: cfg.runbookResult.minEscalationSeverity,
    reason: `The runbook ${facts.document} (execution ${facts.executionId}) ended ${facts.status}; the incident it was started for is on its record.`,
  });
  return {
    intents: [
      {
        ...page,
        result: {
          ...base,
          notice: 'escalation',
          pageId: resultPageId(signal.incidentKey, facts.executionId, facts.status),
        },
        awaitsRecord: facts,
      },
    ],
    notes: [],
    findings: { ...base, decision: 'escalate' },
  };
}

/**
 * The notice of a claimed result worded from the execution's record, as the plan words it with the
 * record read before (pure). An intent that did not await the record is already worded.
 */
export function wordedFromRecord(
  intent: RunbookResultPageIntent,
  signal: Signal,
  execution: StoredAutomationExecution,
  cfg: RunbookResultConfig,
): RunbookResultPageIntent {
  if (!intent.awaitsRecord) return intent;
  const [worded] = planRunbookResult({
    signal,
    facts: intent.awaitsRecord,
    gathered: { execution },
    config: cfg,
  }).intents;
  return worded ?? intent;
}
