/**
 * A Sigma rule as the function runs it: compiled from YAML at package time (compile.ts), evaluated per
 * record (evaluate.ts). Plain JSON, so the build carries it as a generated module (rules.generated.json).
 */

/** Sigma levels, https://github.com/SigmaHQ/sigma-specification (Sigma rules specification, "level"). */
export const SIGMA_LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type SigmaLevel = (typeof SIGMA_LEVELS)[number];

/** The value modifiers this project evaluates (docs/functions/onCloudTrail.md, "Sigma rules"). */
export const SIGMA_MODIFIERS = ['contains', 'startswith', 'endswith', 'all', 're', 'cidr', 'exists'] as const;
export type SigmaModifier = (typeof SIGMA_MODIFIERS)[number];

/** One `field|modifiers: values` line: a CloudTrail JSON path and what its value must be. */
export interface FieldTest {
  /** Path under the record (`detail`): `requestParameters.userName` is ["requestParameters", "userName"]. */
  path: string[];
  /** How each value compares: `equals` (with `*` and `?` wildcards), or one modifier. */
  compare: 'equals' | 'contains' | 'startswith' | 'endswith' | 're' | 'cidr' | 'exists';
  /** Every value must hold (`|all`); otherwise any one. */
  all: boolean;
  /** `null` means the field is missing or null; booleans only with `exists`. */
  values: (string | boolean | null)[];
}

/** A search identifier: any of its maps (a list of maps), each map all of its field tests. */
export type Selection = FieldTest[][];

export type Condition =
  | { op: 'and' | 'or'; of: Condition[] }
  | { op: 'not'; of: Condition }
  | { op: 'ref'; name: string }
  | { op: 'one-of' | 'all-of'; names: string[] };

export interface CompiledRule {
  id: string;
  title: string;
  level: SigmaLevel;
  /** ATT&CK and other tags, as the rule lists them. */
  tags: string[];
  references: string[];
  /** The file under detections/ it came from. */
  file: string;
  /** The `eventName` values the rule names exactly: the EventBridge pattern delivers these. */
  calls: string[];
  selections: Record<string, Selection>;
  condition: Condition;
}
