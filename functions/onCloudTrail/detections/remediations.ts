import type { IamStatement } from '#functions/index.ts';
import type { IntentKind } from '#shared/domain/intent.ts';

/**
 * What can undo a detection's change exactly: the intent its executor runs (spec.ts maps every intent
 * kind to its executor) and the IAM statement a stage grants only when it turns the remediation on.
 * Pure data: the stage configuration and the package-time plugin load it, so no executor (and no SDK
 * client) is imported here.
 */
export interface Remediation {
  intentKind: IntentKind;
  statement: IamStatement;
}

export const REMEDIATIONS = {
  'revoke-world-ingress': {
    intentKind: 'ec2.revoke-ingress',
    statement: {
      Sid: 'RevokeWorldOpenIngress',
      Effect: 'Allow',
      Action: 'ec2:RevokeSecurityGroupIngress',
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:ec2:\${AWS::Region}:\${AWS::AccountId}:security-group/*`,
      },
    },
  },
  'restore-public-access-block': {
    intentKind: 's3.restore-public-access-block',
    statement: {
      Sid: 'RestoreBucketPublicAccessBlock',
      Effect: 'Allow',
      Action: ['s3:GetBucketPublicAccessBlock', 's3:PutBucketPublicAccessBlock'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::*' },
      // Buckets of this account only, whatever name a record carries.
      Condition: { StringEquals: { 's3:ResourceAccount': { Ref: 'AWS::AccountId' } } },
    },
  },
  'start-logging': {
    intentKind: 'cloudtrail.start-logging',
    statement: {
      Sid: 'StartStoppedTrails',
      Effect: 'Allow',
      Action: ['cloudtrail:GetTrailStatus', 'cloudtrail:StartLogging'],
      Resource: {
        'Fn::Sub': `arn:\${AWS::Partition}:cloudtrail:\${AWS::Region}:\${AWS::AccountId}:trail/*`,
      },
    },
  },
  'revoke-ec2-share': {
    intentKind: 'ec2.revoke-share',
    statement: {
      Sid: 'RevokeSnapshotAndImageShares',
      Effect: 'Allow',
      Action: [
        'ec2:DescribeSnapshotAttribute',
        'ec2:ModifySnapshotAttribute',
        'ec2:DescribeImageAttribute',
        'ec2:ModifyImageAttribute',
      ],
      // Snapshot and image ARNs carry no account; only their owner can change who may use them.
      Resource: [
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
        { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string, not a template
        { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}::image/*' },
      ],
    },
  },
  'revoke-rds-snapshot-share': {
    intentKind: 'rds.revoke-snapshot-share',
    statement: {
      Sid: 'RevokeRdsSnapshotShares',
      Effect: 'Allow',
      Action: [
        'rds:DescribeDBSnapshotAttributes',
        'rds:ModifyDBSnapshotAttribute',
        'rds:DescribeDBClusterSnapshotAttributes',
        'rds:ModifyDBClusterSnapshotAttribute',
      ],
      // This account and region's manual snapshots only (RDS snapshot ARNs carry the account).
      Resource: [
        {
          'Fn::Sub': `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:snapshot:*`,
        },
        {
          'Fn::Sub': `arn:\${AWS::Partition}:rds:\${AWS::Region}:\${AWS::AccountId}:cluster-snapshot:*`,
        },
      ],
    },
  },
} as const satisfies Record<string, Remediation>;

/** What undoes a detection's change, when it can be undone exactly. */
export type RemediationKind = keyof typeof REMEDIATIONS;
