/**
 * vitest's global setup: removes the run's temporary folder (vitest.config.ts points TMPDIR there) when
 * the run ends, with whatever the tests and the commands they started left in it.
 */
import { rmSync } from 'node:fs';

export default function setup(): () => void {
  return () => {
    const dir = process.env.OPS_TEST_RUN_TMPDIR;
    if (dir && process.env.OPS_TEST_RUN_TMPDIR_OWNER === String(process.pid)) {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
