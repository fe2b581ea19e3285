import {
  DescribeAccountCommand,
  DescribeOrganizationalUnitCommand,
  ListParentsCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { beforeEach, describe, expect, it } from 'vitest';
import { resetAccountNamesForTests } from '#shared/organization/accountNames.ts';
import { resetOuPathsForTests } from '#shared/organization/ouPaths.ts';
import { mockAwsClients } from '../../tools/awsMocks.ts';
import { CENTRAL, centralInvoker, liveOrganizationStage, openedIn } from '../support/organizationStage.ts';

// Handler layer, stage `org`: a member's page names the OU path of its account, read from
// Organizations (ListParents up to the root, each OU's name by DescribeOrganizationalUnit) and kept an
// hour; where the organization does not let the central account read it, the page goes without it.
const aws = await mockAwsClients();
const organizations = aws.of(OrganizationsClient);
const sns = aws.of(SNSClient);
const { handler } = await import('#functions/onCloudTrail/handler.ts');
const invokeCentral = centralInvoker(handler);

const MEMBER = '222222222222';
const OTHER_MEMBER = '333333333333';
const ROOT_ID = 'r-ab12';
const WORKLOADS = 'ou-ab12-11111111';
const PROD = 'ou-ab12-22222222';

/** Member -> Prod -> Workloads -> root; OTHER_MEMBER is in Prod too. */
function organizationTree(): void {
  const parentOf: Record<string, { Id: string; Type: 'ROOT' | 'ORGANIZATIONAL_UNIT' }> = {
    [MEMBER]: { Id: PROD, Type: 'ORGANIZATIONAL_UNIT' },
    [OTHER_MEMBER]: { Id: PROD, Type: 'ORGANIZATIONAL_UNIT' },
    [PROD]: { Id: WORKLOADS, Type: 'ORGANIZATIONAL_UNIT' },
    [WORKLOADS]: { Id: ROOT_ID, Type: 'ROOT' },
  };
  const names: Record<string, string> = { [PROD]: 'Prod', [WORKLOADS]: 'Workloads' };
  organizations.on(ListParentsCommand).callsFake(async (input: { ChildId?: string }) => {
    const parent = parentOf[input.ChildId ?? ''];
    return { Parents: parent ? [parent] : [] };
  });
  organizations
    .on(DescribeOrganizationalUnitCommand)
    .callsFake(async (input: { OrganizationalUnitId?: string }) => ({
      OrganizationalUnit: { Id: input.OrganizationalUnitId, Name: names[input.OrganizationalUnitId ?? ''] },
    }));
}

const bodies = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input.Message ?? '');
const eventId = (n: number) => `e0000000-0000-4000-8000-00000000000${n}`;

beforeEach(() => {
  liveOrganizationStage(aws, [
    { Account: MEMBER, Status: 'CURRENT' },
    { Account: OTHER_MEMBER, Status: 'CURRENT' },
  ]);
  for (const account of [CENTRAL, MEMBER, OTHER_MEMBER]) {
    aws
      .of(SSMClient)
      .on(GetParameterCommand, { Name: `/ops-autopilot/org/accounts/${account}/mode` })
      .resolves({ Parameter: { Value: 'live' } });
  }
  organizations.on(DescribeAccountCommand).resolves({ Account: { Id: MEMBER, Name: 'workload-prod' } });
  resetAccountNamesForTests();
  resetOuPathsForTests();
});

describe("a member's page names its account's OU path", () => {
  it('names the OU path from the root down, read once an hour per account', async () => {
    // Arrange
    organizationTree();
    // Act: two events of the member, then one of another member of the same OU.
    await invokeCentral(openedIn(MEMBER, 'eu-west-1', eventId(1)));
    await invokeCentral(openedIn(MEMBER, 'eu-west-1', eventId(2)));
    // Assert
    expect(bodies()).toHaveLength(2);
    for (const body of bodies()) expect(body).toContain('OU path: Root / Workloads / Prod');
    expect(organizations.commandCalls(ListParentsCommand).map((c) => c.args[0].input.ChildId)).toEqual([
      MEMBER,
      PROD,
      WORKLOADS,
    ]);
    expect(organizations.commandCalls(DescribeOrganizationalUnitCommand)).toHaveLength(2);
  });

  it('reads an OU name once for the accounts it holds', async () => {
    // Arrange
    organizationTree();
    // Act
    await invokeCentral(openedIn(MEMBER, 'eu-west-1', eventId(1)));
    await invokeCentral(openedIn(OTHER_MEMBER, 'eu-west-1', eventId(2)));
    // Assert
    expect(bodies().filter((b) => b.includes('OU path: Root / Workloads / Prod'))).toHaveLength(2);
    expect(organizations.commandCalls(DescribeOrganizationalUnitCommand)).toHaveLength(2);
  });

  it('pages without an OU path, and without a word about it, when the organization does not let it be read', async () => {
    // Arrange
    organizations
      .on(ListParentsCommand)
      .rejects(Object.assign(new Error('not a delegated administrator'), { name: 'AccessDeniedException' }));
    // Act
    const first = await invokeCentral(openedIn(MEMBER, 'eu-west-1', eventId(1)));
    await invokeCentral(openedIn(MEMBER, 'eu-west-1', eventId(2)));
    // Assert: the page went out, with the name and the id, and the refusal is not asked again within the hour.
    expect(first.outcomes.find((o) => o.kind === 'sns.page')).toMatchObject({ status: 'done' });
    const [body] = bodies();
    expect(body).toContain(`Account ${MEMBER}, region eu-west-1`);
    expect(body).toContain('account name: workload-prod');
    expect(body).not.toMatch(/OU path|organizational unit|denied/i);
    expect(organizations.commandCalls(ListParentsCommand)).toHaveLength(1);
  });

  it('leaves out a path that does not reach the root within the OU nesting limit', async () => {
    // Arrange: an answer that never reaches a root (each OU its own parent's child, forever).
    organizations.on(ListParentsCommand).resolves({ Parents: [{ Id: PROD, Type: 'ORGANIZATIONAL_UNIT' }] });
    organizations
      .on(DescribeOrganizationalUnitCommand)
      .resolves({ OrganizationalUnit: { Id: PROD, Name: 'Prod' } });
    // Act
    await invokeCentral(openedIn(MEMBER, 'eu-west-1', eventId(1)));
    // Assert: the walk stops at the nesting limit (five OUs below the root) and the page goes without it.
    expect(organizations.commandCalls(ListParentsCommand).length).toBeLessThanOrEqual(6);
    expect(bodies()[0]).not.toContain('OU path');
  });
});
