import { DescribeDocumentCommand, type SSMClient } from '@aws-sdk/client-ssm';

/**
 * Deploy-time check: every document the stage's rules start exists in the account and region
 * (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeDocument.html), AWS-owned
 * ones included, so a misspelled name fails the deploy instead of the first incident.
 */
export async function runbookDocumentProblems(client: SSMClient, documents: string[]): Promise<string[]> {
  const problems = await Promise.all(
    documents.map(async (name) => {
      try {
        await client.send(new DescribeDocumentCommand({ Name: name }));
        return undefined;
      } catch (error) {
        const e = error as Error;
        if (e.name === 'InvalidDocument') return `${name}: no such SSM document in this account and region`;
        return `${name}: could not be checked (${e.name}: ${e.message}); the deployer needs ssm:DescribeDocument`;
      }
    }),
  );
  return problems.filter((p): p is string => p !== undefined);
}
