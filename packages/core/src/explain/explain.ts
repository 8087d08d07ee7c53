/**
 * `orchestrate explain` and `orchestrate build --dry-run`: which checkpoint a
 * build would restore and why, the change set, what the restore would leave
 * out, and what the build tool would rebuild with its own reasons, each unit
 * accounted for by a change or by orchestrate itself (see analyze.ts).
 *
 * The restore and the tool's dry run happen in a scratch copy of the project
 * with a read-only view of the store (the machinery `verify` uses,
 * scratch.ts): the user's tree and the store are never written.
 */
import { performance } from 'node:perf_hooks';
import { openScratch, type ScratchCommandOptions } from '../verify/scratch.js';
import { analyzeExplanation, inUserTree, type Explanation } from './analyze.js';

export type ExplainOptions = ScratchCommandOptions;

/** What {@link explainProject} returns: the explanation, with paths of the user's tree. */
export interface ExplainResult extends Explanation {
  readonly durationMs: number;
}

/** Runs `explain`; see the module's comment. */
export async function explainProject(options: ExplainOptions): Promise<ExplainResult> {
  const started = performance.now();
  const scratch = await openScratch({ ...options, purpose: 'explain' });
  try {
    options.logger.info('restoring into a scratch copy and asking the build tool …');
    const report = await scratch.runAt('explain', {
      command: 'build',
      explain: true,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!report.explanation) throw new Error('the explaining run returned no explanation');
    const layout = {
      treeDir: scratch.tree,
      projectDir: scratch.config.projectDir,
      sourceDir: scratch.layout.sourceDir,
      buildDir: scratch.layout.buildDir,
    };
    const explanation = analyzeExplanation(report, report.explanation, layout);
    // The tool ran in the scratch copy: show its paths as the user's tree's.
    const shown = JSON.parse(inUserTree(JSON.stringify(explanation), layout)) as Explanation;
    return { ...shown, durationMs: Math.round(performance.now() - started) };
  } finally {
    await scratch.dispose(options.keepScratch === true);
  }
}
