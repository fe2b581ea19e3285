/**
 * The parameters of the AWS-owned Automation documents this project's configuration, README and docs
 * use, each read from its page in the Systems Manager Automation runbook reference (`source`). With
 * it, `sls package` (offline) fails on a misspelled parameter name of these documents; any other
 * document's parameters are checked at deploy time, from ssm:DescribeDocument.
 *
 * A document AWS changes is caught at deploy time all the same; update its entry from its page.
 */
export interface AwsRunbookDocument {
  /** Every parameter the document takes, as AWS spells it. */
  readonly parameters: readonly string[];
  /** Its page in the AWS Systems Manager Automation runbook reference. */
  readonly source: string;
}

const REFERENCE = 'https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide';

export const AWS_RUNBOOK_DOCUMENTS: Readonly<Record<string, AwsRunbookDocument>> = {
  // InstanceId (StringList, required), AutomationAssumeRole (String, optional).
  'AWS-RestartEC2Instance': {
    parameters: ['AutomationAssumeRole', 'InstanceId'],
    source: `${REFERENCE}/automation-aws-restartec2instance.html`,
  },
  // InstanceId (StringList, required), AutomationAssumeRole (String, optional).
  'AWS-StopEC2Instance': {
    parameters: ['AutomationAssumeRole', 'InstanceId'],
    source: `${REFERENCE}/automation-aws-stopec2instance.html`,
  },
  // InstanceId (String, required: the DB instance identifier), AutomationAssumeRole (String, optional).
  'AWS-RebootRdsInstance': {
    parameters: ['AutomationAssumeRole', 'InstanceId'],
    source: `${REFERENCE}/automation-aws-rebootrdsinstance.html`,
  },
  // S3BucketName (String, required), AutomationAssumeRole (String, optional).
  'AWS-DisableS3BucketPublicReadWrite': {
    parameters: ['AutomationAssumeRole', 'S3BucketName'],
    source: `${REFERENCE}/automation-aws-disables3bucketpublicreadwrite.html`,
  },
};

/** The parameters of an AWS-owned document this project knows; undefined for any other document. */
export function awsRunbookParameters(document: string): readonly string[] | undefined {
  return Object.hasOwn(AWS_RUNBOOK_DOCUMENTS, document)
    ? AWS_RUNBOOK_DOCUMENTS[document]?.parameters
    : undefined;
}

/** One line naming a parameter the document does not take, its rule, and what the document takes. */
export function unknownParameterProblem(
  rule: { index: number; name: string },
  parameter: string,
  document: string,
  known: readonly string[],
): string {
  return `alarmRules.${rule.index}.runbook.parameters.${parameter} (alarm rule "${rule.name}"): not a parameter of ${document} (its parameters: ${[...known].sort().join(', ') || 'none'})`;
}
