import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  asDeliveredEvent,
  HELDOUT_DIR,
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
