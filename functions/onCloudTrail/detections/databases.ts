import { partitionOf } from '#shared/domain/partition.ts';
import { isWorld } from './cidr.ts';
import { detection, from } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { field, isObj, type Json } from './json.ts';

/** Databases reachable from the internet: RDS instances and clusters made public, DB security groups opened to the world. */

/** Calls that change an existing database: only the request says it was made public. */
const MODIFY = ['ModifyDBInstance', 'ModifyDBCluster'] as const;
/**
 * Calls that create one: RDS applies its own default when the request leaves PubliclyAccessible out,
 * and the response says what the new database is.
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html
 */
const CREATE = [
  'CreateDBInstance',
  'CreateDBInstanceReadReplica',
  'RestoreDBInstanceFromDBSnapshot',
  'RestoreDBInstanceToPointInTime',
  'RestoreDBInstanceFromS3',
  'CreateDBCluster',
  'RestoreDBClusterFromSnapshot',
  'RestoreDBClusterToPointInTime',
  'RestoreDBClusterFromS3',
] as const;

/** Only a true flag is public; a missing or unreadable one is not. */
const isTrue = (v: Json) => v === true || v === 'true';

export const databasePublic = detection({
  name: 'database-public',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes:
    'an RDS instance or cluster created, restored or modified with `PubliclyAccessible` true (the request says so, or for a new one the response does)',
  watches: { calls: [...MODIFY, ...CREATE] },
  match: (e) => {
    if (!from('rds', e)) return undefined;
    const n = e.detail.eventName;
    const req = e.detail.requestParameters;
    const res = e.detail.responseElements;
    const modify = (MODIFY as readonly string[]).includes(n);
    if (!modify && !(CREATE as readonly string[]).includes(n)) return undefined;
    const byRequest = isTrue(field(req, 'publiclyAccessible'));
    if (!byRequest && (modify || !isTrue(field(res, 'publiclyAccessible')))) return undefined;
    const cluster = n.includes('Cluster');
    const key = cluster ? 'dBClusterIdentifier' : 'dBInstanceIdentifier';
    const id = valid('rdsIdentifier', field(req, key)) ?? valid('rdsIdentifier', field(res, key));
    const account = e.detail.recipientAccountId ?? e.account;
    const type = cluster ? 'rds cluster' : 'rds instance';
    return {
      what: `${type} ${id ?? shown('rdsIdentifier', field(req, key))} made publicly accessible (${n})`,
      ...(id
        ? {
            resource: {
              type,
              id,
              arn: `arn:${partitionOf(e.region)}:rds:${e.region}:${account}:${cluster ? 'cluster' : 'db'}:${id}`,
            },
          }
        : {}),
      evidence: { publiclyAccessible: byRequest ? 'true (requested)' : 'true (in the response)' },
    };
  },
});

/** The CIDR field of an AuthorizeDBSecurityGroupIngress request, however CloudTrail cases its name. */
const cidrOf = (req: Json): Json =>
  isObj(req) ? Object.entries(req).find(([k]) => k.toLowerCase() === 'cidrip')?.[1] : undefined;

export const dbSecurityGroupOpenToWorld = detection({
  name: 'db-security-group-open-to-world',
  severity: 'critical',
  action: 'page',
  serviceLinkedRole: 'as-for-anyone',
  describes:
    'a DB security group (EC2-Classic) opened to the world (`AuthorizeDBSecurityGroupIngress` from 0.0.0.0/0 or ::/0)',
  watches: { calls: ['AuthorizeDBSecurityGroupIngress'] },
  match: (e) => {
    if (!from('rds', e) || e.detail.eventName !== 'AuthorizeDBSecurityGroupIngress') return undefined;
    const req = e.detail.requestParameters;
    const cidr = valid('ipv4Cidr', cidrOf(req)) ?? valid('ipv6Cidr', cidrOf(req));
    if (!cidr || !isWorld(cidr)) return undefined;
    const group = shown('dbSecurityGroupName', field(req, 'dBSecurityGroupName'));
    return {
      what: `DB security group ${group} opened to ${cidr}`,
      resource: { type: 'db security group', id: group },
      evidence: { cidr },
    };
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const databasesPaged = [databasePublic, dbSecurityGroupOpenToWorld] as const;
