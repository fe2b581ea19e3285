import type { IngressPermission } from '#shared/domain/intent.ts';
import { isWorld } from './cidr.ts';
import { detection, from } from './declaration.ts';
import { port, shown, valid } from './formats.ts';
import { field, isObj, type Json, list, type Obj } from './json.ts';

/** Network: security groups opened to the world (their record-only changes are in changes.ts). */

const portsOf = (p: { ipProtocol: string; fromPort?: number; toPort?: number }) => {
  if (p.ipProtocol === '-1' || p.ipProtocol.toLowerCase() === 'all') return 'all traffic';
  if (p.fromPort === undefined) return `${p.ipProtocol} (all ports)`;
  return p.fromPort === p.toPort || p.toPort === undefined
    ? `${p.ipProtocol} ${p.fromPort}`
    : `${p.ipProtocol} ${p.fromPort}-${p.toPort}`;
};

/** The ranges an AuthorizeSecurityGroupIngress call added, in both request forms, formats checked. */
function ingressPermissions(req: Json): { permissions: IngressPermission[]; unreadable: number } {
  const permissions: IngressPermission[] = [];
  let unreadable = 0;
  const add = (base: Obj, cidr: { v4?: Json; v6?: Json }) => {
    const ipProtocol = valid('protocol', base.ipProtocol);
    const fromPort = port(base.fromPort);
    const toPort = port(base.toPort);
    const v4 = cidr.v4 === undefined ? undefined : valid('ipv4Cidr', cidr.v4);
    const v6 = cidr.v6 === undefined ? undefined : valid('ipv6Cidr', cidr.v6);
    if (!ipProtocol || (v4 === undefined && v6 === undefined)) {
      unreadable++;
      return;
    }
    permissions.push({
      ipProtocol,
      ...(fromPort !== undefined ? { fromPort } : {}),
      ...(toPort !== undefined ? { toPort } : {}),
      ...(v4 ? { cidrIpv4: v4 } : {}),
      ...(v6 ? { cidrIpv6: v6 } : {}),
    });
  };
  // The flat form: one range in cidrIp beside the protocol and ports.
  if (isObj(req) && req.cidrIp !== undefined) add(req, { v4: req.cidrIp });
  for (const perm of list(field(req, 'ipPermissions'))) {
    if (!isObj(perm)) continue;
    for (const r of list(perm.ipRanges)) add(perm, { v4: field(r, 'cidrIp') });
    for (const r of list(perm.ipv6Ranges)) add(perm, { v6: field(r, 'cidrIpv6') });
  }
  return { permissions, unreadable };
}

/** ModifySecurityGroupRules: the rules set to a world range (the request names rules by id). */
function modifiedWorldRules(req: Json): { ruleId: string; text: string }[] {
  const request = field(req, 'ModifySecurityGroupRulesRequest') ?? req;
  const out: { ruleId: string; text: string }[] = [];
  for (const entry of list(field(request, 'SecurityGroupRule'))) {
    const rule = field(entry, 'SecurityGroupRule');
    if (!isObj(rule)) continue;
    const cidr = valid('ipv4Cidr', rule.CidrIpv4) ?? valid('ipv6Cidr', rule.CidrIpv6);
    if (!cidr || !isWorld(cidr)) continue;
    const ipProtocol = valid('protocol', rule.IpProtocol) ?? '(unreadable)';
    const fromPort = port(rule.FromPort);
    const toPort = port(rule.ToPort);
    out.push({
      ruleId: shown('securityGroupRuleId', field(entry, 'SecurityGroupRuleId')),
      text: `${portsOf({ ipProtocol, ...(fromPort !== undefined ? { fromPort } : {}), ...(toPort !== undefined ? { toPort } : {}) })} from ${cidr}`,
    });
  }
  return out;
}

export const securityGroupOpenToWorld = detection({
  name: 'security-group-open-to-world',
  cis: '4.10',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  remediations: ['revoke-world-ingress'],
  describes: 'security-group ingress opened to 0.0.0.0/0 or ::/0 (any /0), with its ports',
  watches: { calls: ['AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules'] },
  match: (e) => {
    const req = e.detail.requestParameters;
    if (!from('ec2', e)) return undefined;
    if (e.detail.eventName === 'AuthorizeSecurityGroupIngress') {
      const { permissions } = ingressPermissions(req);
      const world = permissions.filter((p) => isWorld(p.cidrIpv4 ?? p.cidrIpv6 ?? ''));
      if (world.length === 0) return undefined;
      const groupId = valid('securityGroupId', field(req, 'groupId'));
      const opened = world.map((p) => `${portsOf(p)} from ${p.cidrIpv4 ?? p.cidrIpv6}`).join('; ');
      return {
        what: `${groupId ?? 'a security group named without its id'} opened to the world: ${opened}`,
        ...(groupId ? { resource: { type: 'security group', id: groupId } } : {}),
        evidence: { opened },
        // A group named without its id (default VPC, by name) is paged but not touched: nothing guessed.
        ...(groupId
          ? { remediation: { kind: 'revoke-world-ingress' as const, groupId, permissions: world } }
          : {}),
      };
    }
    if (e.detail.eventName === 'ModifySecurityGroupRules') {
      const request = field(e.detail.requestParameters, 'ModifySecurityGroupRulesRequest') ?? req;
      const rules = modifiedWorldRules(req);
      if (rules.length === 0) return undefined;
      const groupId = shown('securityGroupId', field(request, 'GroupId'));
      const opened = rules.map((r) => `${r.ruleId}: ${r.text}`).join('; ');
      return {
        what: `${groupId} rules changed to the world: ${opened}`,
        resource: { type: 'security group', id: groupId },
        evidence: { opened },
      };
    }
    return undefined;
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const networkPaged = [securityGroupOpenToWorld] as const;
