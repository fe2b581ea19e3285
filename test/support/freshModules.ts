import { afterAll, vi } from 'vitest';

/**
 * Emulator and package files share a worker for its loaded packages (the SDK, Powertools: most of a fresh worker's
 * start), not for the repository's modules: those are evaluated again for each file, so what a handler
 * module builds from the environment at load (its state table, its clients' endpoint) is the file's own.
 */
afterAll(() => {
  vi.resetModules();
});
