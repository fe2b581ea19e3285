import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The layers whose files take longest, in the order their files start (the rest after them, in
 * vitest's own order). A fresh CI run has no timings cached, so vitest would order by file size and
 * could start the fault run (minutes, mostly waiting on timeouts) last, leaving one worker to finish
 * it alone; started first, the other worker's files run beside it. docs/testing.md says why each is slow.
 */
const SLOW_LAYERS = ['test/fault/', 'test/package/', 'test/fuzz/', 'test/emulator/'];

const rank = (spec: TestSpecification): number => {
  const path = spec.moduleId.replaceAll('\\', '/');
  const layer = SLOW_LAYERS.findIndex((folder) => path.includes(`/${folder}`));
  return layer === -1 ? SLOW_LAYERS.length : layer;
};

export default class SlowFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    // Array.prototype.sort is stable: within a layer, vitest's order (longest or largest first) stays.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
