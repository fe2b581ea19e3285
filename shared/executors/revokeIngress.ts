import type { IpPermission } from '@aws-sdk/client-ec2';
import type { IngressPermission, RevokeIngressIntent } from '#shared/domain/intent.ts';
import { done, failed, skipped } from '#shared/domain/outcome.ts';
import type { MutatingExecutor } from './types.ts';

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
export const revokeIngressExecutor: MutatingExecutor<RevokeIngressIntent> = {
  kind: 'ec2.revoke-ingress',
  // Its EC2 action: the statement its remediation grants (functions/onCloudTrail/detections/remediations.ts).
  permissions: [],
  metrics: { done: 'RemediationsDone', refused: { 'already-remediated': 'RemediationsAlreadyDone' } },
  mutates: true,
  budgetMs: 10_000,
  // The incident is the CloudTrail record: a forwarded or redelivered copy of it holds one slot.
  rateGuard: (intent, ctx) => ({
    rule: intent.detection,
    actionId: `${intent.kind}|${ctx.signal.incidentKey}`,
  }),
  preview: (intent) => `revoke ${intent.permissions.map(describe).join('; ')} on ${intent.groupId}`,
  async execute(intent) {
    const { ec2, RevokeSecurityGroupIngressCommand } = await import('#shared/aws/ec2Actions.ts');
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
        return failed(intent.kind, error, `could not revoke ${describe(p)} on ${intent.groupId}${before}`);
      }
    }
    const already = gone.length > 0 ? `; already gone: ${gone.join('; ')}` : '';
    if (revoked.length === 0) {
      const why = groupGone ? 'no longer exists' : `no longer allows ${gone.join('; ')}`;
      return skipped(intent.kind, 'already-remediated', `${intent.groupId} ${why}`);
    }
    return done(intent.kind, `revoked ${revoked.join('; ')} on ${intent.groupId}${already}`, {
      securityGroup: intent.groupId,
    });
  },
};
