import { callsIn, changed, detection, from } from './declaration.ts';
import { shown } from './formats.ts';
import { field } from './json.ts';
import { publicAccessBlockFlags } from './storage.ts';

/**
 * Changes: the CIS AWS Foundations Benchmark change controls, recorded (not paged) by default. The
 * specific detections in the other files come first, so a change one of them pages is decided there.
 */

export const iamPolicyChange = callsIn('iam', {
  name: 'iam-policy-change',
  cis: '4.4',
  severity: 'info',
  action: 'record',
  describes: 'IAM policies created, changed, attached, detached or deleted',
  calls: [
    'DeleteGroupPolicy',
    'DeleteRolePolicy',
    'DeleteUserPolicy',
    'PutGroupPolicy',
    'PutRolePolicy',
    'PutUserPolicy',
    'CreatePolicy',
    'DeletePolicy',
    'CreatePolicyVersion',
    'DeletePolicyVersion',
    'SetDefaultPolicyVersion',
    'AttachRolePolicy',
    'DetachRolePolicy',
    'AttachUserPolicy',
    'DetachUserPolicy',
    'AttachGroupPolicy',
    'DetachGroupPolicy',
  ],
});

export const cloudTrailChange = callsIn('cloudtrail', {
  name: 'cloudtrail-change',
  cis: '4.5',
  severity: 'info',
  action: 'record',
  describes: 'trails created, updated or started, event selectors changed',
  calls: ['CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging', 'PutEventSelectors'],
});

const S3_POLICY_CALLS = new Set([
  'PutBucketAcl',
  'PutBucketPolicy',
  'PutBucketCors',
  'PutBucketLifecycle',
  'PutBucketReplication',
  'DeleteBucketPolicy',
  'DeleteBucketCors',
  'DeleteBucketLifecycle',
  'DeleteBucketReplication',
  'PutBucketPublicAccessBlock',
  'DeleteBucketPublicAccessBlock',
]);

export const s3BucketPolicyChange = detection({
  name: 's3-bucket-policy-change',
  cis: '4.8',
  severity: 'info',
  action: 'record',
  describes: 'bucket policy, ACL, CORS, lifecycle, replication or public access block changes',
  watches: { calls: [...S3_POLICY_CALLS] },
  match: (e) => {
    if (!from('s3', e) || !S3_POLICY_CALLS.has(e.detail.eventName)) return undefined;
    const found = changed(
      e.detail.eventName,
      `on ${shown('bucket', field(e.detail.requestParameters, 'bucketName'))}`,
    );
    if (e.detail.eventName !== 'PutBucketPublicAccessBlock') return found;
    const { unknown } = publicAccessBlockFlags(e.detail.requestParameters);
    if (unknown.length === 0) return found;
    // Recorded, not paged: say what could not be read rather than guess it was off.
    return {
      what: `${found.what} (settings that could not be read: ${unknown.join(', ')})`,
      evidence: { unreadable: unknown.join(', ') },
    };
  },
});

export const configChange = callsIn('config', {
  name: 'config-change',
  cis: '4.9',
  severity: 'info',
  action: 'record',
  describes: 'AWS Config recorder or delivery channel changes',
  calls: [
    'StopConfigurationRecorder',
    'DeleteDeliveryChannel',
    'PutDeliveryChannel',
    'PutConfigurationRecorder',
    'DeleteConfigurationRecorder',
  ],
});

const SECURITY_GROUP_CALLS = new Set([
  'AuthorizeSecurityGroupIngress',
  'AuthorizeSecurityGroupEgress',
  'RevokeSecurityGroupIngress',
  'RevokeSecurityGroupEgress',
  'CreateSecurityGroup',
  'DeleteSecurityGroup',
  'ModifySecurityGroupRules',
]);

export const securityGroupChange = detection({
  name: 'security-group-change',
  cis: '4.10',
  severity: 'info',
  action: 'record',
  describes: 'security groups created, deleted or their rules changed',
  watches: { calls: [...SECURITY_GROUP_CALLS] },
  match: (e) =>
    from('ec2', e) && SECURITY_GROUP_CALLS.has(e.detail.eventName)
      ? changed(
          e.detail.eventName,
          `on ${shown('securityGroupId', field(e.detail.requestParameters, 'groupId') ?? field(field(e.detail.requestParameters, 'ModifySecurityGroupRulesRequest'), 'GroupId'))}`,
        )
      : undefined,
});

export const naclChange = callsIn('ec2', {
  name: 'nacl-change',
  cis: '4.11',
  severity: 'info',
  action: 'record',
  describes: 'network ACLs and their entries changed',
  calls: [
    'CreateNetworkAcl',
    'CreateNetworkAclEntry',
    'DeleteNetworkAcl',
    'DeleteNetworkAclEntry',
    'ReplaceNetworkAclEntry',
    'ReplaceNetworkAclAssociation',
  ],
});

export const networkGatewayChange = callsIn('ec2', {
  name: 'network-gateway-change',
  cis: '4.12',
  severity: 'info',
  action: 'record',
  describes: 'internet and customer gateways changed',
  calls: [
    'CreateCustomerGateway',
    'DeleteCustomerGateway',
    'AttachInternetGateway',
    'CreateInternetGateway',
    'DeleteInternetGateway',
    'DetachInternetGateway',
  ],
});

export const routeTableChange = callsIn('ec2', {
  name: 'route-table-change',
  cis: '4.13',
  severity: 'info',
  action: 'record',
  describes: 'route tables and routes changed',
  calls: [
    'CreateRoute',
    'CreateRouteTable',
    'ReplaceRoute',
    'ReplaceRouteTableAssociation',
    'DeleteRouteTable',
    'DeleteRoute',
    'DisassociateRouteTable',
  ],
});

export const vpcChange = callsIn('ec2', {
  name: 'vpc-change',
  cis: '4.14',
  severity: 'info',
  action: 'record',
  describes: 'VPCs, peering and ClassicLink changed',
  calls: [
    'CreateVpc',
    'DeleteVpc',
    'ModifyVpcAttribute',
    'AcceptVpcPeeringConnection',
    'CreateVpcPeeringConnection',
    'DeleteVpcPeeringConnection',
    'RejectVpcPeeringConnection',
    'AttachClassicLinkVpc',
    'DetachClassicLinkVpc',
    'DisableVpcClassicLink',
    'EnableVpcClassicLink',
  ],
});

export const organizationsChange = callsIn('organizations', {
  name: 'organizations-change',
  cis: '4.15',
  severity: 'info',
  action: 'record',
  describes: 'AWS Organizations changed (an account closed included)',
  calls: [
    'AcceptHandshake',
    'AttachPolicy',
    'CloseAccount',
    'CreateAccount',
    'CreateOrganizationalUnit',
    'CreatePolicy',
    'DeclineHandshake',
    'DeleteOrganization',
    'DeleteOrganizationalUnit',
    'DeletePolicy',
    'DetachPolicy',
    'DisablePolicyType',
    'EnablePolicyType',
    'InviteAccountToOrganization',
    'LeaveOrganization',
    'MoveAccount',
    'RemoveAccountFromOrganization',
    'UpdatePolicy',
    'UpdateOrganizationalUnit',
  ],
});

/** In the order detections.ts tries them: with the other domains' records, after every page. */
export const changesRecorded = [
  iamPolicyChange,
  cloudTrailChange,
  s3BucketPolicyChange,
  configChange,
  securityGroupChange,
  naclChange,
  networkGatewayChange,
  routeTableChange,
  vpcChange,
  organizationsChange,
] as const;
