import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detect } from '#functions/onCloudTrail/detections.ts';
import { CloudTrailEvent } from '#functions/onCloudTrail/schema.ts';
import { isWellFormed, truncated } from '#shared/domain/text.ts';
import { TAG_VALUE_LIMIT, truncateTagValue } from '#shared/executors/stopInstances.ts';
import { cloudTrailRecord } from '../support/events/index.ts';
import { LONE_SURROGATES } from '../support/unicode.ts';

// Text cut to a length goes on into pages, tags and records: a cut inside a surrogate pair would leave
// an unpaired surrogate there, which SNS, EC2 and DynamoDB cannot take.

const EMOJI = '\u{1F4A5}';

describe('valid Unicode', () => {
  it("agrees with Node's String.prototype.isWellFormed on any UTF-16 text", () => {
    // The runtime's own check (Node 20+), reached past the ES2023 typings this project compiles with.
    const native = (s: string) => (s as string & { isWellFormed(): boolean }).isWellFormed();
    // Pieces of any code units, lone surrogates and pairs, so that halves meet across pieces.
    const piece = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom(...LONE_SURROGATES, '\uD83D', '\uDCA5', EMOJI),
    );
    let broken = 0;
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const text = pieces.join('');
        if (!native(text)) broken++;
        expect(isWellFormed(text)).toBe(native(text));
      }),
      { seed: 20_250_615, numRuns: 2_000 },
    );
    // Both answers were tried often.
    expect(broken).toBeGreaterThan(200);
    expect(broken).toBeLessThan(1_800);
  });
});

describe('cutting text to a length', () => {
  it('never leaves half of a surrogate pair, whatever the text and the limit', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.integer({ min: 4, max: 300 }),
        (text, limit) => {
          // Act
          const cut = truncated(text, limit);
          // Assert
          expect(isWellFormed(cut)).toBe(true);
          expect(cut.length).toBeLessThanOrEqual(limit);
          expect(cut === text || cut.endsWith('...')).toBe(true);
        },
      ),
      { seed: 20_250_615, numRuns: 2_000 },
    );
  });

  it('keeps text within the limit as it is, and cuts longer text to exactly the limit when no pair is in the way', () => {
    expect(truncated('x'.repeat(10), 10)).toBe('x'.repeat(10));
    expect(truncated('x'.repeat(11), 10)).toBe(`${'x'.repeat(7)}...`);
    // The pair would straddle the cut: it goes whole, one unit shorter.
    expect(truncated(`${'x'.repeat(6)}${EMOJI}xxx`, 10)).toBe(`${'x'.repeat(6)}...`);
  });

  it("a stopped instance's reason tag of emoji is cut to the tag limit without an unpaired surrogate", () => {
    // Arrange: two units, then pairs past the limit, so the old cut (253 units) lands inside a pair.
    const reason = `xx${EMOJI.repeat(TAG_VALUE_LIMIT / 2)}`;
    // Act
    const tag = truncateTagValue(reason);
    // Assert
    expect(isWellFormed(tag)).toBe(true);
    expect(tag.length).toBeLessThanOrEqual(TAG_VALUE_LIMIT);
  });
});

describe('onCloudTrail evidence taken from the record', () => {
  const noMfa = () => cloudTrailRecord('console-sign-in-no-mfa');

  it.each([
    ['an unpaired surrogate', 'No\uD800'],
    ['an emoji the old 16-unit cut split', `${'N'.repeat(15)}${EMOJI}`],
  ])('a sign-in without MFA whose MFAUsed holds %s still pages, showing it as unreadable', (_, mfaUsed) => {
    // Arrange
    const record = cloudTrailRecord('console-sign-in-no-mfa', { additionalEventData: { MFAUsed: mfaUsed } });
    // Act
    const [finding] = detect(CloudTrailEvent.parse(record), ['console-sign-in-without-mfa']);
    // Assert
    expect(finding?.detection).toBe('console-sign-in-without-mfa');
    expect(finding?.evidence).toEqual({ MFAUsed: '(unreadable)' });
  });

  it('shows a readable MFAUsed as it is', () => {
    // Act
    const [finding] = detect(CloudTrailEvent.parse(noMfa()), ['console-sign-in-without-mfa']);
    // Assert
    expect(finding?.evidence).toEqual({ MFAUsed: 'No' });
  });
});
