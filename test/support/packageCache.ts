/**
 * vitest's global setup: one scratch folder per test run where `packagedOnce` (packagedOnce.ts) keeps
 * each stage's `sls package`, so the package tests share one packaging per stage and params instead of
 * one per file. Cheap when no package test runs: nothing is packaged until a test asks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    packageCacheDir: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ops-autopilot-packages-'));
  project.provide('packageCacheDir', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
