// npm run docs: rewrites the generated blocks of docs/ from the registry and the configuration schema.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_DOCS, generatedBlocks, ROOT, withGenerated } from './docs/generate.ts';

const blocks = await generatedBlocks();
for (const [path, names] of Object.entries(GENERATED_DOCS)) {
  const file = join(ROOT, path);
  const before = readFileSync(file, 'utf8');
  const after = withGenerated(before, names, blocks);
  if (after !== before) writeFileSync(file, after);
  console.log(`${after === before ? 'current' : 'updated'}: ${path} (${names.join(', ')})`);
}
