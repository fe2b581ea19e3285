import { detection, type Found, from } from './declaration.ts';
import { shown, valid } from './formats.ts';
import { field, list, str } from './json.ts';

/**
 * Security tooling silenced: the services that would notice an intruder turned off or told to look
 * away. A GuardDuty detector deleted or disabled is guardduty-disabled (logging.ts); these are the rest.
 */

export const securityToolingDisabled = detection({
  name: 'security-tooling-disabled',
  severity: 'high',
  action: 'page',
  describes:
    'Security Hub or its standards disabled, Macie disabled or paused, IAM Access Analyzer deleted, Inspector disabled, a WAF web ACL disassociated, EBS encryption by default disabled',
  watches: {
    calls: [
      'DisableSecurityHub',
      'BatchDisableStandards',
      'DisableMacie',
      'UpdateMacieSession',
      'DeleteAnalyzer',
      'Disable',
      'DisassociateWebACL',
      'DisableEbsEncryptionByDefault',
    ],
  },
  match: (e): Found | undefined => {
    const req = e.detail.requestParameters;
    const n = e.detail.eventName;
    if (from('securityhub', e) && n === 'DisableSecurityHub')
      return { what: 'Security Hub disabled', evidence: {} };
    if (from('securityhub', e) && n === 'BatchDisableStandards') {
      const arns = list(field(req, 'StandardsSubscriptionArns') ?? field(req, 'standardsSubscriptionArns'));
      const shownArns = arns.map((a) => valid('awsArn', a)).filter((a): a is string => a !== undefined);
      return {
        what: `Security Hub standards disabled (${arns.length})`,
        evidence: { standards: shownArns.length > 0 ? shownArns.join(', ') : '(unreadable)' },
      };
    }
    if ((from('macie2', e) || from('macie', e)) && n === 'DisableMacie')
      return { what: 'Macie disabled', evidence: {} };
    if ((from('macie2', e) || from('macie', e)) && n === 'UpdateMacieSession') {
      // Paused only when the request says so; another setting changed is not this finding.
      return str(field(req, 'status')) === 'PAUSED'
        ? { what: 'Macie paused', evidence: { status: 'PAUSED' } }
        : undefined;
    }
    if (from('access-analyzer', e) && n === 'DeleteAnalyzer') {
      const id = shown('accessAnalyzerName', field(req, 'analyzerName'));
      return {
        what: `IAM Access Analyzer ${id} deleted`,
        resource: { type: 'access analyzer', id },
        evidence: {},
      };
    }
    if (from('inspector2', e) && n === 'Disable') {
      const types = list(field(req, 'resourceTypes'))
        .map((t) => str(t))
        .filter((t): t is string => t !== undefined && /^[A-Z0-9_]{1,32}$/.test(t));
      return {
        what: `Inspector disabled${types.length > 0 ? ` for ${types.join(', ')}` : ''}`,
        evidence: {},
      };
    }
    if (from('wafv2', e) && n === 'DisassociateWebACL') {
      const arn = valid('awsArn', field(req, 'resourceArn'));
      return {
        what: `WAF web ACL disassociated from ${arn ?? '(unreadable)'}`,
        ...(arn ? { resource: { type: 'waf protected resource', id: arn, arn } } : {}),
        evidence: {},
      };
    }
    if (from('ec2', e) && n === 'DisableEbsEncryptionByDefault') {
      return { what: `EBS encryption by default disabled in ${e.detail.awsRegion}`, evidence: {} };
    }
    return undefined;
  },
});

export const guardDutyFindingsSuppressed = detection({
  name: 'guardduty-findings-suppressed',
  severity: 'high',
  action: 'page',
  describes:
    'a GuardDuty trusted IP list created or changed (its addresses raise no findings), or a filter that auto-archives findings',
  watches: { calls: ['CreateIPSet', 'UpdateIPSet', 'CreateFilter', 'UpdateFilter'] },
  match: (e): Found | undefined => {
    if (!from('guardduty', e)) return undefined;
    const req = e.detail.requestParameters;
    const n = e.detail.eventName;
    const detector = shown('guardDutyDetectorId', field(req, 'detectorId'));
    const resource = { type: 'guardduty detector', id: detector };
    if (n === 'CreateIPSet' || n === 'UpdateIPSet') {
      const name = shown('guardDutyName', field(req, 'name') ?? field(req, 'ipSetId'));
      return {
        what: `GuardDuty trusted IP list ${name} ${n === 'CreateIPSet' ? 'created' : 'changed'}`,
        resource,
        evidence: {},
      };
    }
    if (n === 'CreateFilter' || n === 'UpdateFilter') {
      // Only a filter whose action archives hides findings; a NOOP filter only groups them.
      if (str(field(req, 'action')) !== 'ARCHIVE') return undefined;
      const name = shown('guardDutyName', field(req, 'name') ?? field(req, 'filterName'));
      return {
        what: `GuardDuty filter ${name} auto-archives findings`,
        resource,
        evidence: { action: 'ARCHIVE' },
      };
    }
    return undefined;
  },
});

/** In the order detections.ts tries them: with the other domains' pages, before every record. */
export const toolingPaged = [securityToolingDisabled, guardDutyFindingsSuppressed] as const;
