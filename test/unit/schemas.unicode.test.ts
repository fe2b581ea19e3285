import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { registry } from '#functions/index.ts';
import { BoundedEnvelope } from '#shared/domain/eventBridge.ts';
import { wellFormedEntries, wellFormedUnicode } from '#shared/domain/text.ts';
import { listFixtures, loadFixture } from '../../tools/local/events.ts';
import { ROUTED_BUT_REFUSED, UNROUTED } from '../support/unrouted.ts';

/**
 * Every string an event schema accepts must carry the one Unicode check (text.ts), or a record of
 * strings the entries' check: an unpaired surrogate that passes the schema fails later, where the page
 * or key is sent, on every retry. This walks the schemas themselves, so a field no fixture has (an
 * optional one) cannot forget it either.
 */

/** The places a schema keeps JSON it does not read as text; each one says why that is safe. */
const OPAQUE = new Set([
  // CloudTrail's request and response vary by API: the detections check each value they use against
  // its AWS format (detections.ts), so no raw string from them reaches a page or a key.
  'onCloudTrail.CloudTrailEvent.detail.requestParameters',
  'onCloudTrail.CloudTrailEvent.detail.responseElements',
  'onCloudTrail.CloudTrailEvent.detail.additionalEventData',
  // The whole input, sent on to ScheduledScanEvent or ManualScanPayload, both walked here.
  'stopIdleInstances.IdleScanEvent',
]);

interface Found {
  unchecked: string[];
  opaque: string[];
}

type Def = {
  type: string;
  checks?: unknown[];
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  left?: z.ZodType;
  right?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  items?: z.ZodType[];
  rest?: z.ZodType | null;
};

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

function walk(schema: z.ZodType, path: string, found: Found, seen = new Set<z.ZodType>()): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = defOf(schema);
  const next = (child: z.ZodType | null | undefined, at = path) => {
    if (child) walk(child, at, found, new Set(seen));
  };
  switch (def.type) {
    case 'string':
      if (!def.checks?.includes(wellFormedUnicode)) found.unchecked.push(path);
      return;
    case 'record':
      if (def.checks?.includes(wellFormedEntries)) return;
      next(def.keyType, `${path}.<key>`);
      next(def.valueType, `${path}.<value>`);
      return;
    case 'unknown':
    case 'any':
      found.opaque.push(path);
      return;
    case 'object':
      for (const [key, child] of Object.entries(def.shape ?? {})) next(child, `${path}.${key}`);
      return;
    case 'array':
      next(def.element, `${path}[]`);
      return;
    case 'tuple':
      for (const [i, item] of (def.items ?? []).entries()) next(item, `${path}[${i}]`);
      next(def.rest, `${path}[]`);
      return;
    case 'union':
      for (const option of def.options ?? []) next(option);
      return;
    case 'intersection':
      next(def.left);
      next(def.right);
      return;
    case 'pipe':
      // A transform's output is the function's own, not the event's: only what comes in is checked.
      next(def.in);
      return;
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      next(def.innerType);
      return;
    case 'literal':
    case 'enum':
    case 'number':
    case 'boolean':
    case 'null':
    case 'undefined':
    case 'never':
    case 'transform':
      return;
    default:
      // A kind this walk does not know could hide a string: say so rather than pass it.
      found.unchecked.push(`${path} (unknown schema kind ${def.type})`);
  }
}

const isSchema = (value: unknown): value is z.ZodType =>
  typeof value === 'object' && value !== null && '_zod' in value;

async function eventSchemasOf(name: string): Promise<[string, z.ZodType][]> {
  const module = (await import(`#functions/${name}/schema.ts`)) as Record<string, unknown>;
  return Object.entries(module).flatMap(([exported, value]) =>
    isSchema(value) ? [[`${name}.${exported}`, value] as [string, z.ZodType]] : [],
  );
}

describe('event schemas: valid Unicode in every string', () => {
  it('the shared envelope checks every string it accepts', () => {
    // Arrange
    const found: Found = { unchecked: [], opaque: [] };
    // Act
    walk(BoundedEnvelope, 'BoundedEnvelope', found);
    // Assert: its detail is each function's own, walked below.
    expect(found.unchecked).toEqual([]);
    expect(found.opaque).toEqual(['BoundedEnvelope.detail']);
  });

  it.each(registry.map((entry) => entry.name))(
    '%s: every string field of its schemas refuses an unpaired surrogate, and JSON is kept only where it says why',
    async (name) => {
      // Arrange
      const schemas = await eventSchemasOf(name);
      const found: Found = { unchecked: [], opaque: [] };
      // Act
      for (const [path, schema] of schemas) walk(schema, path, found);
      // Assert
      expect(schemas.length).toBeGreaterThan(0);
      expect(found.unchecked).toEqual([]);
      expect(found.opaque.filter((path) => !OPAQUE.has(path))).toEqual([]);
    },
  );

  it.each(registry.map((entry) => entry.name))(
    '%s: every fixture outside invalid/ still passes its schema, but those its rules never route',
    async (name) => {
      // Arrange
      const { [name]: spec } = (await import(`#functions/${name}/spec.ts`)) as Record<
        string,
        { schema: z.ZodType }
      >;
      const fixtures = listFixtures().filter((f) => f.startsWith(`${name}/`) && !f.includes('/invalid/'));
      // Act
      const refused = fixtures.filter((f) => spec?.schema.safeParse(loadFixture(f)).success !== true);
      // Assert
      expect(fixtures.length).toBeGreaterThan(0);
      // Only a fixture its rules never route may be refused (running, pending, created jobs).
      // A routed sample the schema refuses is listed with its reason (ROUTED_BUT_REFUSED).
      expect(refused.filter((f) => !(f in UNROUTED) && !(f in ROUTED_BUT_REFUSED))).toEqual([]);
    },
  );
});
