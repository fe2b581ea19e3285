/** `npm run sigma`: compiles detections/*.yml into the module onCloudTrail bundles (the plugin does the same at package time). */
import { describeProblem, writeSigmaModule } from '#functions/onCloudTrail/sigma/load.ts';

const load = writeSigmaModule(process.cwd());
for (const w of load.warnings) console.warn(`warning: ${describeProblem(w)}`);
console.log(`${load.rules.length} Sigma rules compiled`);
