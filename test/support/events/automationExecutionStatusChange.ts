import type { z } from 'zod';
import type { RunbookResultEvent } from '#functions/onRunbookResult/schema.ts';
import { type EnvelopeOverrides, fromFixture, withEnvelope } from './fixture.ts';

/** An SSM Automation execution status change as EventBridge delivers it, before onRunbookResult's schema reads it. */
export type AutomationExecutionStatusChange = z.input<typeof RunbookResultEvent>;

export interface AutomationExecutionOverrides extends EnvelopeOverrides {
  /** The execution's id; its ARN in `resources` follows, unless `resources` is given. */
  executionId?: string;
  status?: AutomationExecutionStatusChange['detail']['Status'];
}

/**
 * An automation execution's status change from `events/onRunbookResult/<fixture>.json` (default: the
 * documented success), with the given fields changed where SSM puts them.
 */
export function automationExecutionStatusChange(
  fixture = 'execution-success',
  overrides: AutomationExecutionOverrides = {},
): AutomationExecutionStatusChange {
  const event = withEnvelope(
    fromFixture<AutomationExecutionStatusChange>('onRunbookResult', fixture),
    overrides,
  );
  const { detail } = event;
  if (overrides.executionId !== undefined) {
    const previous = detail.ExecutionId;
    detail.ExecutionId = overrides.executionId;
    if (overrides.resources === undefined) {
      event.resources = event.resources.map((arn) =>
        arn.endsWith(`:automation-execution/${previous}`)
          ? arn.replace(`:automation-execution/${previous}`, `:automation-execution/${overrides.executionId}`)
          : arn,
      );
    }
  }
  if (overrides.status !== undefined) detail.Status = overrides.status;
  return event;
}
