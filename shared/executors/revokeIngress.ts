import type { IpPermission } from '@aws-sdk/client-ec2';
import type { IngressPermission, RevokeIngressIntent } from '#shared/domain/intent.ts';
import { remediationExecutor } from './remediation.ts';

type Ec2Actions = typeof import('#shared/aws/ec2Actions.ts');

const describe = (p: IngressPermission) => {
  const ports =
    p.ipProtocol === '-1' || p.fromPort === undefined
      ? `${p.ipProtocol === '-1' ? 'all traffic' : p.ipProtocol}`
      : `${p.ipProtocol} ${p.fromPort}${p.toPort !== undefined && p.toPort !== p.fromPort ? `-${p.toPort}` : ''}`;
  return `${ports} from ${p.cidrIpv4 ?? p.cidrIpv6}`;
};

const toSdk = (p: IngressPermission): IpPermission => ({
  IpProtocol: p.ipProtocol,
  ...(p.fromPort !== undefined ? { FromPort: p.fromPort } : {}),
  ...(p.toPort !== undefined ? { ToPort: p.toPort } : {}),
  ...(p.cidrIpv4 ? { IpRanges: [{ CidrIp: p.cidrIpv4 }] } : {}),
  ...(p.cidrIpv6 ? { Ipv6Ranges: [{ CidrIpv6: p.cidrIpv6 }] } : {}),
});

/** EC2 says a rule or group is not there: what was opened is closed already. */
const GONE = new Set(['InvalidPermission.NotFound', 'InvalidGroup.NotFound']);

/**
 * Revokes exactly the ranges the recorded call added, one call each, so a range already removed
 * neither fails the others nor widens what is revoked; every other rule of the group stays.
 */
export const revokeIngressExecutor = remediationExecutor<RevokeIngressIntent, Ec2Actions>({
  kind: 'ec2.revoke-ingress',
  preview: (intent) => `revoke ${intent.permissions.map(describe).join('; ')} on ${intent.groupId}`,
  aws: () => import('#shared/aws/ec2Actions.ts'),
  async remediate(intent, { ec2, RevokeSecurityGroupIngressCommand }) {
    const revoked: string[] = [];
    const gone: string[] = [];
    let groupGone = false;
    for (const p of intent.permissions) {
      try {
        const res = await ec2.send(
          new RevokeSecurityGroupIngressCommand({ GroupId: intent.groupId, IpPermissions: [toSdk(p)] }),
        );
        // Newer EC2 answers a missing rule with success and lists it as unknown.
        if ((res.UnknownIpPermissions ?? []).length > 0) gone.push(describe(p));
        else revoked.push(describe(p));
      } catch (error) {
        const name = (error as { name?: string }).name ?? '';
        if (GONE.has(name)) {
          gone.push(describe(p));
          groupGone ||= name === 'InvalidGroup.NotFound';
          continue;
        }
        const before = revoked.length > 0 ? ` (revoked before it: ${revoked.join('; ')})` : '';
        return { failed: error, detail: `could not revoke ${describe(p)} on ${intent.groupId}${before}` };
      }
    }
    const already = gone.length > 0 ? `; already gone: ${gone.join('; ')}` : '';
    if (revoked.length === 0) {
      const why = groupGone ? 'no longer exists' : `no longer allows ${gone.join('; ')}`;
      return { already: `${intent.groupId} ${why}` };
    }
    return {
      done: `revoked ${revoked.join('; ')} on ${intent.groupId}${already}`,
      refs: { securityGroup: intent.groupId },
    };
  },
});
