import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENTS_DIR } from '../../tools/local/events.ts';
import {
  asDeliveredEvent,
  corpusDirFrom,
  HELDOUT_DIR,
  heldoutCorpora,
  loadHeldoutCorpus,
  PLACEHOLDER_ACCOUNT,
} from '../../tools/local/heldout.ts';

// The held-out corpus as npm run heldout and the package test replay it (events/heldout/cloudtrail/README.md).
const corpus = loadHeldoutCorpus();
const recordOf = (id: string) => {
  const found = corpus.find((r) => r.id === id);
  if (!found) throw new Error(`no held-out record ${id}`);
  return found.record;
};

/** The text of every file under `dir`, at any depth. */
const textsUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'));

const scratch = mkdtempSync(join(tmpdir(), 'heldout-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('held-out records as EventBridge delivers them', () => {
  it('puts a record whose account is a placeholder under a 12-digit account, everywhere it names it, and keeps the other accounts it names', () => {
    // Act
    const attach = asDeliveredEvent('a', recordOf('test-attach-user-policy-json.log#1')) as {
      account: string;
      detail: { userIdentity: { arn: string }; recipientAccountId: string };
    };
    const share = asDeliveredEvent('b', recordOf('test-modify-db-cluster-snapshot-attribute-json.log#1')) as {
      account: string;
      detail: { requestParameters: { valuesToAdd: string[] } };
    };
    // Assert
    expect(attach.account).toBe(PLACEHOLDER_ACCOUNT);
    expect(attach.detail.recipientAccountId).toBe(PLACEHOLDER_ACCOUNT);
    expect(attach.detail.userIdentity.arn).toBe(
      `arn:aws:sts::${PLACEHOLDER_ACCOUNT}:assumed-role/ec2-instance-role/i-06815aa7cf7d21f8f`,
    );
    expect(share.account).toBe(PLACEHOLDER_ACCOUNT);
    expect(share.detail.requestParameters.valuesToAdd).toEqual(['123456789012']);
  });

  it('delivers a ConsoleLogin record without an eventType as a console sign-in, and a service event as one', () => {
    // Act
    const signIn = asDeliveredEvent('c', recordOf('test-console-login-json.log#1'));
    const serviceEvent = asDeliveredEvent('d', recordOf('test-user-authentication.log#1'));
    const apiCall = asDeliveredEvent('e', recordOf('test-create-key-pair-json.log#1'));
    // Assert
    expect([signIn['detail-type'], serviceEvent['detail-type'], apiCall['detail-type']]).toEqual([
      'AWS Console Sign In via CloudTrail',
      'AWS Service Event via CloudTrail',
      'AWS API Call via CloudTrail',
    ]);
    expect(serviceEvent.account).toBe(PLACEHOLDER_ACCOUNT);
  });

  it('refuses a corpus with a record its labels do not name, naming the record', () => {
    // Arrange
    mkdirSync(join(scratch, 'source'));
    writeFileSync(
      join(scratch, 'source', 'one.log'),
      readFileSync(join(HELDOUT_DIR, 'elastic', 'test-delete-detector-json.log')),
    );
    writeFileSync(join(scratch, 'labels.tsv'), 'record\tlabel\tdeliverable\torigin\treason\n');
    // Act
    const load = () => loadHeldoutCorpus(scratch);
    // Assert
    expect(load).toThrow('labels.tsv: no label for one.log#1');
  });
});

describe('choosing a held-out corpus to replay (npm run heldout -- --corpus <dir>)', () => {
  it('replays the first corpus when no --corpus is given, and the named one when it is', () => {
    // Act
    const byDefault = corpusDirFrom(['--json']);
    const named = corpusDirFrom(['--corpus', 'events/heldout/invictus'], join(EVENTS_DIR, '..'));
    const joined = corpusDirFrom(['--corpus=events/heldout/invictus', '--json'], join(EVENTS_DIR, '..'));
    // Assert
    expect(byDefault).toBe(HELDOUT_DIR);
    expect(named).toBe(join(EVENTS_DIR, 'heldout', 'invictus'));
    expect(joined).toBe(named);
  });

  it('refuses a --corpus without a directory, or one without labels, naming --corpus and the path', () => {
    // Act
    const bare = () => corpusDirFrom(['--corpus']);
    const flagAfter = () => corpusDirFrom(['--corpus', '--json']);
    const empty = join(scratch, 'unlabelled');
    mkdirSync(empty);
    const unlabelled = () => corpusDirFrom(['--corpus', empty]);
    // Assert
    expect(bare).toThrow('--corpus needs a directory');
    expect(flagAfter).toThrow('--corpus needs a directory');
    expect(unlabelled).toThrow(`--corpus ${empty}: no labels.tsv there`);
  });

  it('finds every corpus under events/heldout/, the first one first', () => {
    // Act
    const corpora = heldoutCorpora();
    // Assert
    expect(corpora[0]).toBe(HELDOUT_DIR);
    expect(corpora).toContain(join(EVENTS_DIR, 'heldout', 'invictus'));
  });
});

describe('the held-out corpora stay unseen', () => {
  it('share no eventID with the onCloudTrail fixtures or with another corpus', () => {
    // Arrange
    const fixtureIds = new Set(
      textsUnder(join(EVENTS_DIR, 'onCloudTrail')).flatMap((text) =>
        [...text.matchAll(/"eventID"\s*:\s*"([^"]+)"/g)].map((m) => m[1]),
      ),
    );
    // Which corpus first holds each eventID (a corpus may hold variants of one record under one id).
    const seen = new Map<string, string>();
    const clashes: string[] = [];
    // Act
    for (const dir of heldoutCorpora()) {
      for (const r of loadHeldoutCorpus(dir)) {
        const id = r.record.eventID;
        if (typeof id !== 'string') continue;
        if (fixtureIds.has(id)) clashes.push(`${dir}: ${r.id} is a fixture`);
        const earlier = seen.get(id);
        if (earlier !== undefined && earlier !== dir) clashes.push(`${dir}: ${r.id} is also in ${earlier}`);
        seen.set(id, dir);
      }
    }
    // Assert
    expect(fixtureIds.size).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThan(200);
    expect(clashes).toEqual([]);
  });
});
