import { DescribeDocumentCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { unknownParameterProblem } from '#shared/domain/awsRunbookDocuments.ts';

/** One rule's runbook as the deploy-time check sees it: where it is in config/stages.ts, what it passes. */
export interface ConfiguredRunbook {
  /** Its index in the stage's alarmRules, and its name: how the message points at it. */
  index: number;
  rule: string;
  document: string;
  /** The parameter names the rule passes. */
  parameters: string[];
}

/**
 * Deploy-time check: every document the stage's rules start exists in the account and region, AWS-owned
 * ones included, and takes every parameter its rules pass (the document's `Parameters` in
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeDocument.html), so a
 * misspelled document or parameter name fails the deploy instead of the first incident.
 */
export async function runbookDocumentProblems(
  client: SSMClient,
  runbooks: ConfiguredRunbook[],
): Promise<string[]> {
  const documents = [...new Set(runbooks.map((r) => r.document))];
  const problems = await Promise.all(
    documents.map(async (name): Promise<string[]> => {
      try {
        const { Document } = await client.send(new DescribeDocumentCommand({ Name: name }));
        const known = (Document?.Parameters ?? []).flatMap((p) => (p.Name ? [p.Name] : []));
        return runbooks
          .filter((r) => r.document === name)
          .flatMap((r) =>
            r.parameters
              .filter((p) => !known.includes(p))
              .map((p) => unknownParameterProblem({ index: r.index, name: r.rule }, p, name, known)),
          );
      } catch (error) {
        const e = error as Error;
        if (e.name === 'InvalidDocument') return [`${name}: no such SSM document in this account and region`];
        return [
          `${name}: could not be checked (${e.name}: ${e.message}); the deployer needs ssm:DescribeDocument`,
        ];
      }
    }),
  );
  return problems.flat();
}
