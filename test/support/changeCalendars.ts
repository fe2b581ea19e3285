import {
  GetCalendarStateCommand,
  type GetCalendarStateCommandOutput,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import type { StageConfigInput } from '#config/stageConfig.ts';
import { stages } from '#config/stages.ts';
import { resetConfigForTests } from '#shared/config.ts';
import { resetChangeFreezeForTests } from '#shared/runtime/changeFreeze.ts';

/**
 * SSM Change Calendars in tests: moto has none, so GetCalendarState is answered by the mocked SSM
 * client, one answer (or error) per calendar name, as SSM answers a call naming one calendar.
 */

export type CalendarAnswer = Pick<GetCalendarStateCommandOutput, 'State' | 'NextTransitionTime'> | Error;

/** A calendar not listed is answered as SSM answers a name it does not know. */
export function answerCalendars(
  ssm: AwsClientStub<SSMClient>,
  answers: Record<string, CalendarAnswer>,
): void {
  ssm.on(GetCalendarStateCommand).callsFake((input: { CalendarNames?: string[] }) => {
    const [name = '', ...more] = input.CalendarNames ?? [];
    if (more.length > 0) throw new Error(`asked for ${input.CalendarNames?.length} calendars in one call`);
    const answer = answers[name];
    if (answer === undefined)
      throw Object.assign(new Error(`Document ${name} not found`), { name: 'InvalidDocument' });
    if (answer instanceof Error) throw answer;
    return { ...answer, AtTime: new Date().toISOString() };
  });
  resetChangeFreezeForTests();
}

/** The calendars asked for, in order, one name per call. */
export const calendarsAsked = (ssm: AwsClientStub<SSMClient>): string[] =>
  ssm.commandCalls(GetCalendarStateCommand).flatMap((c) => c.args[0].input.CalendarNames ?? []);

/**
 * Changes one stage of config/stages.ts for a test (calendars on it, a rule's or a detection's) and
 * returns what puts it back; the parsed configuration is forgotten both times.
 */
export function editStage(name: string, edit: (stage: StageConfigInput) => StageConfigInput): () => void {
  const before = stages[name];
  if (before === undefined) throw new Error(`no stage ${name} in config/stages.ts`);
  stages[name] = edit(structuredClone(before));
  resetConfigForTests();
  return () => {
    stages[name] = before;
    resetConfigForTests();
  };
}
