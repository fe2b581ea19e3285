import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../tools/local/packaged.ts';

// npm 11 runs a dependency's install scripts only while they are unreviewed (with a warning on every
// `npm ci`), and a later npm blocks them: package.json's allowScripts decides each one
// (`npm help install-scripts`).
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { hasInstallScript?: boolean }>;
};

/** The installed name of a lockfile entry, `node_modules/a/node_modules/@s/b` -> `@s/b`. */
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('the install scripts npm ci runs', () => {
  it('decides every dependency that has an install script in allowScripts, so npm ci warns about none', () => {
    // Arrange
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
      .map(([path]) => nameOf(path));
    // Assert
    expect(withScripts.length).toBeGreaterThan(0);
    for (const name of withScripts) {
      expect(
        manifest.allowScripts?.[name],
        `${name}: approve or deny it in package.json allowScripts`,
      ).toBeTypeOf('boolean');
    }
  });

  it("allows only Node 22's and esbuild's, which install their binaries", () => {
    // Arrange: @parcel/watcher's builds from source only when asked (its binary is a platform package),
    // es5-ext's prints a message; neither is needed to test, package or deploy.
    const allowed = Object.entries(manifest.allowScripts ?? {}).filter(([, allow]) => allow);
    // Assert
    expect(allowed.map(([name]) => name).sort()).toEqual(['esbuild', 'node']);
  });
});
