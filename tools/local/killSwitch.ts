import {
  DeleteParameterCommand,
  GetParameterCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { resetKillSwitchForTests } from '#shared/runtime/killSwitch.ts';

/**
 * The kill switch parameter (/ops-autopilot/<stage>/mode) in tests. A test that mocks SSMClient mocks
 * the switch's GetParameter too: these say what it answers.
 */

/** No parameter: the stage decides, as in an account where nobody flipped the switch. */
export function withoutKillSwitch(ssm: AwsClientStub<SSMClient>): void {
  ssm
    .on(GetParameterCommand)
    .rejects(new ParameterNotFound({ message: 'parameter not found', $metadata: { httpStatusCode: 400 } }));
  resetKillSwitchForTests();
}

/**
 * An emulator test that mocks SSMClient (moto has no SSM Automation) reads the switch from moto itself,
 * and flips it there (putMode, deleteMode): these calls go through the SDK's own send, the rest stays mocked.
 */
export function killSwitchFromEmulator(ssm: AwsClientStub<SSMClient>): void {
  type Send = (this: SSMClient, command: unknown) => Promise<unknown>;
  const real = (ssm.send as unknown as { wrappedMethod: Send }).wrappedMethod;
  ssm
    .on(GetParameterCommand)
    .callsFake((input, getClient) => real.call(getClient(), new GetParameterCommand(input)))
    .on(PutParameterCommand)
    .callsFake((input, getClient) => real.call(getClient(), new PutParameterCommand(input)))
    .on(DeleteParameterCommand)
    .callsFake((input, getClient) => real.call(getClient(), new DeleteParameterCommand(input)));
  resetKillSwitchForTests();
}

const admin = () => new SSMClient({});

/** Flips the switch as an operator would (`aws ssm put-parameter ... --overwrite`), and forgets the cache. */
export async function putMode(stage: string, value: string): Promise<void> {
  await admin().send(
    new PutParameterCommand({
      Name: `/ops-autopilot/${stage}/mode`,
      Value: value,
      Type: 'String',
      Overwrite: true,
    }),
  );
  resetKillSwitchForTests();
}

/** Removes the switch: the stage decides again. */
export async function deleteMode(stage: string): Promise<void> {
  await admin().send(new DeleteParameterCommand({ Name: `/ops-autopilot/${stage}/mode` }));
  resetKillSwitchForTests();
}
