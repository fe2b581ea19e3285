import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventRules, ROOT, runSls } from '../../tools/local/packaged.ts';
import { packagedOnce } from '../support/packagedOnce.ts';

/**
 * `sls package` and the Sigma rules of detections/: the shipped rule's calls are in onCloudTrail's
 * patterns (the routing test replays its fixtures through them), and a rule outside the subset stops
 * packaging with its file, line and construct. The bad rule lives in a folder of its own
 * (OPS_SIGMA_DIRECTORY), so the repository's detections/ and generated module stay as they are.
 */

const scratch = mkdtempSync(join(tmpdir(), 'sigma-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('sls package with Sigma rules', () => {
  it("routes the shipped rule's calls to onCloudTrail", async () => {
    // Act
    const { template } = await packagedOnce();
    // Assert
    const patterns = eventRules(template)
      .filter((r) => r.functionName === 'onCloudTrail')
      .map((r) => JSON.stringify(r.pattern));
    expect(patterns.some((p) => p.includes('"ModifyDBInstance"'))).toBe(true);
  }, 300_000);

  it('fails on a rule with an unsupported modifier, naming the file, the line and the modifier', async () => {
    // Arrange
    const dir = join(scratch, 'detections');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'encoded.yml'),
      [
        'title: Encoded user agent',
        'id: 22222222-3333-4444-8555-666666666666',
        'level: high',
        'logsource:',
        '  product: aws',
        '  service: cloudtrail',
        'detection:',
        '  selection:',
        '    eventName: ModifyDBInstance',
        '    userAgent|base64offset|contains: curl',
        '  condition: selection',
        '',
      ].join('\n'),
    );
    // Act
    const result = await runSls(['package', '--stage', 'dev', '--package', join(scratch, 'out')], {
      ...process.env,
      AWS_ENDPOINT_URL: '',
      OPS_SIGMA_DIRECTORY: relative(ROOT, dir),
    });
    // Assert
    expect(result.hung).toBe(false);
    expect(result.code).not.toBe(0);
    expect(result.out).toContain(
      `${relative(ROOT, dir)}/encoded.yml:10: unsupported modifier "base64offset"`,
    );
  }, 300_000);
});
