import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stateTableDefinition } from '#shared/state/tableDefinition.ts';
import { ROOT, type Template } from '../../tools/local/packaged.ts';
import { type PackagedRun, packagedOnce } from '../support/packagedOnce.ts';

/**
 * What each paging stage param creates, and the state table's indexes, read from one template packaged
 * with every paging param set. CloudFormation conditions decide the rest at deploy time: they are
 * evaluated here for the defaults (no params) and for the params given.
 */
const PARAMS = {
  pageEmail: 'oncall@example.com',
  chatPages: 'true',
  pagerDutyEndpoint: 'https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue',
  opsgenieEndpoint: 'https://api.opsgenie.com/v1/json/amazonsns?apiKey=00000000-0000-4000-8000-000000000000',
};
let packaged: PackagedRun;

beforeAll(async () => {
  packaged = await packagedOnce('dev', PARAMS);
}, 300_000);

type Cfn = Template & {
  Parameters: Record<string, { Default?: string }>;
  Conditions: Record<string, unknown>;
  Outputs: Record<string, { Condition?: string }>;
};

/** Evaluates a CloudFormation condition for the given parameter values (the functions this stack uses). */
function holds(t: Cfn, condition: unknown, values: Record<string, string>): boolean {
  const value = (v: unknown): unknown => {
    if (typeof v === 'object' && v !== null && 'Ref' in v) {
      const name = (v as { Ref: string }).Ref;
      return name === 'AWS::Region' ? 'eu-west-1' : values[name];
    }
    return v;
  };
  const c = condition as Record<string, unknown[]> & { Condition?: string };
  if (typeof c.Condition === 'string') return holds(t, t.Conditions[c.Condition], values);
  if (c['Fn::Equals']) return value(c['Fn::Equals'][0]) === value(c['Fn::Equals'][1]);
  if (c['Fn::Not']) return !holds(t, c['Fn::Not'][0], values);
  if (c['Fn::Or']) return c['Fn::Or'].some((x) => holds(t, x, values));
  if (c['Fn::And']) return c['Fn::And'].every((x) => holds(t, x, values));
  throw new Error(`condition not understood: ${JSON.stringify(condition)}`);
}

/** The logical ids of the resources the stack creates for these parameter values. */
function created(t: Cfn, values: Record<string, string>): Set<string> {
  return new Set(
    Object.entries(t.Resources)
      .filter(([, r]) => !r.Condition || holds(t, t.Conditions[r.Condition], values))
      .map(([id]) => id),
  );
}

const defaults = (t: Cfn) =>
  Object.fromEntries(Object.entries(t.Parameters).map(([k, p]) => [k, p.Default ?? '']));
const NO_PARAMS = {
  PageEmail: '',
  PageHttpsUrl: '',
  ChatPages: '',
  PagerDutyEndpoint: '',
  OpsgenieEndpoint: '',
};

describe('paging stage params', () => {
  it('make each param a stack parameter defaulting to the stage param', () => {
    // Arrange
    const t = packaged.template as Cfn;
    // Act
    const values = defaults(t);
    // Assert
    expect(values).toMatchObject({
      PageEmail: PARAMS.pageEmail,
      ChatPages: 'true',
      PagerDutyEndpoint: PARAMS.pagerDutyEndpoint,
      OpsgenieEndpoint: PARAMS.opsgenieEndpoint,
    });
  });

  it('create only the text topic when no param is set', () => {
    // Arrange
    const t = packaged.template as Cfn;
    // Act
    const made = created(t, { ...defaults(t), ...NO_PARAMS });
    // Assert
    expect(made.has('PageTopic')).toBe(true);
    for (const id of [
      'PageChatTopic',
      'PagePagerTopic',
      'PagerDutySubscription',
      'OpsgenieSubscription',
      'PageEmailSubscription',
    ]) {
      expect(made.has(id), id).toBe(false);
    }
  });

  it.each([
    ['chatPages', { ChatPages: 'true' }, ['PageChatTopic'], ['PagePagerTopic']],
    [
      'pagerDutyEndpoint',
      { PagerDutyEndpoint: PARAMS.pagerDutyEndpoint },
      ['PagePagerTopic', 'PagerDutySubscription'],
      ['PageChatTopic', 'OpsgenieSubscription'],
    ],
    [
      'opsgenieEndpoint',
      { OpsgenieEndpoint: PARAMS.opsgenieEndpoint },
      ['PagePagerTopic', 'OpsgenieSubscription'],
      ['PageChatTopic', 'PagerDutySubscription'],
    ],
    [
      'pageEmail',
      { PageEmail: PARAMS.pageEmail },
      ['PageEmailSubscription'],
      ['PageChatTopic', 'PagePagerTopic'],
    ],
  ])('%s alone creates its topic and subscription, and no other channel', (_, set, made, notMade) => {
    // Arrange
    const t = packaged.template as Cfn;
    // Act
    const resources = created(t, { ...defaults(t), ...NO_PARAMS, ...set });
    // Assert
    for (const id of made) expect(resources.has(id), id).toBe(true);
    for (const id of notMade) expect(resources.has(id), id).toBe(false);
  });

  it('subscribes PagerDuty and Opsgenie over HTTPS to the pager topic, encrypted with the stack key like the text topic', () => {
    // Arrange
    const r = packaged.template.Resources;
    // Act
    const subscriptions = [r.PagerDutySubscription, r.OpsgenieSubscription];
    // Assert
    for (const s of subscriptions) {
      expect(s?.Properties.Protocol).toBe('https');
      expect(s?.Properties.TopicArn).toEqual({ Ref: 'PagePagerTopic' });
    }
    expect(r.PageChatTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'PageKey' });
    expect(r.PagePagerTopic?.Properties.KmsMasterKeyId).toEqual({ Ref: 'PageKey' });
  });

  it('tells every function the chat and pager topics when they exist, and lets it publish to them', () => {
    // Arrange
    const t = packaged.template;
    const fns = Object.values(t.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && !String(r.Properties.FunctionName).includes('custom'),
    );
    // Act
    const envs = fns.map(
      (f) => (f.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
    );
    const publish = Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Role')
      .flatMap(
        (r) =>
          (r.Properties.Policies ?? []) as {
            PolicyDocument: { Statement: { Sid?: string; Resource: unknown }[] };
          }[],
      )
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((s) => s.Sid === 'Page');
    // Assert
    expect(fns.length).toBeGreaterThan(0);
    for (const env of envs) {
      expect(env.PAGE_CHAT_TOPIC_ARN).toEqual({ 'Fn::If': ['HasChatPages', { Ref: 'PageChatTopic' }, ''] });
      expect(env.PAGE_PAGER_TOPIC_ARN).toEqual({ 'Fn::If': ['HasPager', { Ref: 'PagePagerTopic' }, ''] });
    }
    expect(publish.length).toBe(fns.length);
    for (const s of publish) {
      expect(JSON.stringify(s.Resource)).toContain('PageChatTopic');
      expect(JSON.stringify(s.Resource)).toContain('PagePagerTopic');
    }
  });
});

/** A template value with its Fn::If resolved for these parameter values. */
function resolved(t: Cfn, v: unknown, values: Record<string, string>): unknown {
  if (Array.isArray(v)) return v.map((x) => resolved(t, x, values));
  if (typeof v !== 'object' || v === null) return v;
  const branch = (v as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If'];
  if (branch) return resolved(t, holds(t, t.Conditions[branch[0]], values) ? branch[1] : branch[2], values);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolved(t, x, values)]));
}

describe('the state table', () => {
  it('has the keys and action-log indexes of shared/state/tableDefinition.ts, which the emulator tests create', () => {
    // Arrange
    const t = packaged.template as Cfn;
    // Act
    const table = resolved(t, t.Resources.StateTable?.Properties, defaults(t)) as Record<string, unknown>;
    // Assert
    expect(defaults(t).ActionLogIndexes).toBe('all');
    expect({
      AttributeDefinitions: table.AttributeDefinitions,
      KeySchema: table.KeySchema,
      GlobalSecondaryIndexes: table.GlobalSecondaryIndexes,
    }).toEqual(stateTableDefinition);
  });

  it('upgrades a table made before the indexes one index per deploy (CloudFormation adds one per update)', () => {
    // Arrange
    const t = packaged.template as Cfn;
    // Act
    const first = resolved(t, t.Resources.StateTable?.Properties, {
      ...defaults(t),
      ActionLogIndexes: 'incident',
    }) as {
      AttributeDefinitions: { AttributeName: string }[];
      GlobalSecondaryIndexes: { IndexName: string }[];
    };
    // Assert: the first deploy adds byIncident alone, with no attribute definition left unused.
    expect(first.GlobalSecondaryIndexes.map((i) => i.IndexName)).toEqual(['byIncident']);
    expect(first.AttributeDefinitions.map((a) => a.AttributeName)).toEqual(['id', 'incidentKey', 'at']);
  });
});

describe('docs/EMERGENCY.md', () => {
  it('lists every EventBridge rule the stack creates, so the emergency page disables them all', () => {
    // Arrange
    const doc = readFileSync(join(ROOT, 'docs', 'EMERGENCY.md'), 'utf8');
    const listed =
      /<!-- generated:emergency-rules -->\n([\s\S]*?)<!-- \/generated:emergency-rules -->/.exec(doc)?.[1] ??
      '';
    // Act
    const rules = Object.values(packaged.template.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => String(r.Properties.Name).replace(/^ops-autopilot-dev-/, 'ops-autopilot-<stage>-'))
      .sort();
    // Assert
    expect(listed.trim().split('\n')).toEqual(rules.map((name) => `- \`${name}\``));
  });
});
