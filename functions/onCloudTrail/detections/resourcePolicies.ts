import { detection, from } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { excerpt, field, type Json, str } from './json.ts';
import { publicStatements } from './policies.ts';

/** Resources other than S3 made public: a resource policy that lets anyone in, a public CodeBuild project. */

/** Where each service's call carries the policy, and what it names. */
interface PolicyCall {
  source: string;
  kind: string;
  policy(req: Json): Json;
  id(req: Json, res: Json): string;
}

const POLICY_CALL_LIST: Record<string, readonly PolicyCall[]> = {
  SetRepositoryPolicy: [
    {
      source: 'ecr',
      kind: 'ECR repository',
      policy: (req) => field(req, 'policyText'),
      id: (req) => shown('ecrRepository', field(req, 'repositoryName')),
    },
  ],
  SetQueueAttributes: [
    {
      source: 'sqs',
      kind: 'SQS queue',
      policy: (req) => field(field(req, 'attributes'), 'Policy'),
      id: (req) => shown('sqsQueueUrl', field(req, 'queueUrl')),
    },
  ],
  SetTopicAttributes: [
    {
      source: 'sns',
      kind: 'SNS topic',
      // Only the Policy attribute is a policy; any other attribute's value is not read as one.
      policy: (req) => (field(req, 'attributeName') === 'Policy' ? field(req, 'attributeValue') : undefined),
      id: (req) => shown('snsTopicArn', field(req, 'topicArn')),
    },
  ],
  PutResourcePolicy: [
    {
      source: 'secretsmanager',
      kind: 'secret',
      policy: (req) => field(req, 'resourcePolicy'),
      id: (req) => shown('secretId', field(req, 'secretId')),
    },
  ],
  PutKeyPolicy: [
    {
      source: 'kms',
      kind: 'KMS key',
      policy: (req) => field(req, 'policy'),
      id: (req) => shown('kmsKey', field(req, 'keyId')),
    },
  ],
  CreateKey: [
    {
      source: 'kms',
      kind: 'KMS key',
      policy: (req) => field(req, 'policy'),
      id: (_req, res) => shown('kmsKey', field(field(res, 'keyMetadata'), 'keyId')),
    },
  ],
  ...Object.fromEntries(
    [
      'CreateDomain',
      'UpdateDomainConfig',
      'CreateElasticsearchDomain',
      'UpdateElasticsearchDomainConfig',
    ].map((call) => [
      call,
      [
        {
          // OpenSearch Service logs both its APIs and the older Elasticsearch ones as es.amazonaws.com.
          source: 'es',
          kind: 'OpenSearch domain',
          policy: (req: Json) => field(req, 'accessPolicies'),
          id: (req: Json) => shown('searchDomain', field(req, 'domainName')),
        },
      ],
    ]),
  ),
};
/** By call name: a Map, so a crafted name such as `constructor` finds nothing rather than a prototype member. */
const POLICY_CALLS = new Map(Object.entries(POLICY_CALL_LIST));

export const resourcePolicyPublic = detection({
  name: 'resource-policy-public',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes:
    'an ECR repository, SQS queue, SNS topic, secret, KMS key or OpenSearch domain policy that allows anyone (Principal *) with no condition narrowing who',
  watches: { calls: [...POLICY_CALLS.keys()] },
  match: (e) => {
    const call = POLICY_CALLS.get(e.detail.eventName)?.find((c) => from(c.source, e));
    if (!call) return undefined;
    // An unreadable or missing policy has no public statement: it never pages as "allows anyone".
    const open = publicStatements(call.policy(e.detail.requestParameters));
    if (open.length === 0) return undefined;
    const id = call.id(e.detail.requestParameters, e.detail.responseElements);
    return {
      what: `${call.kind} ${id} policy allows anyone`,
      resource: { type: call.kind.toLowerCase(), id },
      evidence: { publicStatement: excerpt(open[0]), publicStatements: String(open.length) },
    };
  },
});

export const codeBuildProjectPublic = detection({
  name: 'codebuild-project-public',
  severity: 'high',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes: "a CodeBuild project's builds, logs and artifacts made visible to anyone (PUBLIC_READ)",
  watches: { calls: ['UpdateProjectVisibility'] },
  match: (e) => {
    if (!from('codebuild', e) || e.detail.eventName !== 'UpdateProjectVisibility') return undefined;
    const req = e.detail.requestParameters;
    if (str(field(req, 'projectVisibility')) !== 'PUBLIC_READ') return undefined;
    const arn = valid('codeBuildProjectArn', field(req, 'projectArn'));
    const id = arn?.split('/').pop() ?? '(unreadable)';
    return {
      what: `CodeBuild project ${id} made public`,
      resource: { type: 'codebuild project', id, ...(arn ? { arn } : {}) },
      evidence: { projectVisibility: 'PUBLIC_READ' },
    };
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const resourcePoliciesPaged = [resourcePolicyPublic, codeBuildProjectPublic] as const;
