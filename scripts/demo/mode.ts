import { stages } from '#config/stages.ts';

/**
 * The demo's first line: how this run treats the stage. By default it runs live (DRY_RUN=false), so
 * every executor acts on the emulator, unlike the deployed dev stage, which is dry-run.
 */
export function demoModeLine(stage: string, dryRunEnv: string | undefined): string {
  const deployedDry = stages[stage]?.dryRun === true;
  const dry = (dryRunEnv ?? 'false') === 'true';
  if (dry) {
    return `stage ${stage}, run dry-run (DRY_RUN=true): nothing is changed, even in the emulator; the pages say what would be done`;
  }
  const unlike = deployedDry ? `, unlike the deployed ${stage} stage (dry-run)` : '';
  return `stage ${stage}, run live (DRY_RUN=false)${unlike}: every executor acts on the emulator (stops, tags, remediations), nothing reaches AWS; DRY_RUN=true npm run demo runs it dry`;
}
