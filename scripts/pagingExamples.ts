// npm run docs:paging: writes the rendered page of every channel into docs/PAGING.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { DOC_PATH, withExamples } from './paging/examples.ts';

writeFileSync(DOC_PATH, withExamples(readFileSync(DOC_PATH, 'utf8')));
console.log(`updated the examples in ${DOC_PATH}`);
