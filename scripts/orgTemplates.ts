// npm run org:templates: writes the member templates of every organization's stage to deploy/org/<stage>/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedMemberTemplates } from '#deploy/org/files.ts';

const ROOT = join(import.meta.dirname, '..');
const written: string[] = [];
for (const [path, template] of generatedMemberTemplates(ROOT)) {
  const file = join(ROOT, path);
  mkdirSync(dirname(file), { recursive: true });
  const before = (() => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  })();
  const after = `${JSON.stringify(template, null, 2)}\n`;
  if (before === undefined || JSON.stringify(JSON.parse(before)) !== JSON.stringify(template)) {
    writeFileSync(file, after);
    written.push(file);
  }
  console.log(
    `${written.includes(file) ? 'updated' : 'current'}: ${path} (${Buffer.byteLength(JSON.stringify(template))} bytes as TemplateBody)`,
  );
}
// The files are reviewed as the repository's other JSON is formatted.
if (written.length > 0)
  execFileSync('npx', ['biome', 'format', '--write', ...written], { cwd: ROOT, stdio: 'ignore' });
