/**
 * `orchestrate verify`: builds the current sources from the checkpoint, as
 * `build` would, and from clean, and compares the outputs byte for byte.
 *
 * Both builds run on a copy of the project's sources, one after the other at
 * the same absolute path (an output that embeds its directory would differ
 * otherwise), and neither touches the user's tree or the store:
 *
 *   <tmp>/orchestrate-verify-XXXX/sources/<project>   the sources as scanned (tracked and untracked-not-ignored, or a walk), and the config
 *   <tmp>/orchestrate-verify-XXXX/tree/<project>      where each build runs: first from the checkpoint, then from clean
 *   <tmp>/orchestrate-verify-XXXX/warm/<project>      the checkpoint build's tree, moved aside for the comparison
 *
 * The checkpoint build reads the store through a read-only view, saves
 * nothing and records nothing in the store's tree ledger.
 */
import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CheckpointManifest } from '../checkpoint/manifest.js';
import { compareOutputs, type Comparison } from './compare.js';
import { openScratch, type ScratchCommandOptions } from './scratch.js';

export type VerifyOptions = ScratchCommandOptions;

export interface VerifyResult extends Comparison {
  /** The checkpoint the checkpoint build restored; null when it built in full (then `reason` says why). */
  readonly restored: string | null;
  readonly reason: string | null;
  /** The scratch directory, when kept. */
  readonly scratch: string | null;
  readonly durationMs: number;
}

/** Runs `verify`; see the module's comment. */
export async function verifyProject(options: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now();
  const logger = options.logger;
  const scratch = await openScratch({ ...options, purpose: 'verify' });
  const { config, layout, store, tree } = scratch;
  const warmTree = join(scratch.dir, 'warm', basename(tree));
  try {
    const run = (side: 'checkpoint' | 'clean') =>
      scratch.runAt(side, {
        command: side === 'checkpoint' ? 'build' : 'prepare',
        listOutputs: true,
        ...(options.signal ? { signal: options.signal } : {}),
      });

    logger.info('building from the checkpoint in a scratch copy …');
    const warm = await run('checkpoint');
    if (warm.restored === null) logger.warn(`no checkpoint to verify, the first build was full: ${warm.reason ?? 'unknown reason'}`);
    await mkdir(dirname(warmTree), { recursive: true });
    await rename(tree, warmTree);
    logger.info('building from clean at the same path …');
    const clean = await run('clean');

    let checkpoint: CheckpointManifest | undefined;
    if (warm.restored !== null) {
      const loaded = await store.loadCheckpoints(config.project);
      const found = loaded.find((item) => item.error === undefined && item.ref.id === warm.restored);
      if (found && found.error === undefined) checkpoint = found.manifest;
    }
    const comparison = await compareOutputs({
      warmBuildDir: join(warmTree, layout.buildDir),
      cleanBuildDir: join(tree, layout.buildDir),
      warmOutputs: warm.outputs ?? [],
      cleanOutputs: clean.outputs ?? [],
      checkpoint,
    });
    if (comparison.compared === 0 && comparison.missing.length === 0) {
      logger.warn("no outputs to compare: the plugins selected none; name them with the config's 'outputs' globs");
    }
    return {
      ...comparison,
      restored: warm.restored,
      reason: warm.reason,
      scratch: options.keepScratch ? scratch.dir : null,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await scratch.dispose(options.keepScratch === true);
  }
}
