/**
 * orchestrate-plugin-ninja: checkpoint builds of a hand-written build.ninja,
 * run with ninja directly (no CMake). An example of a third-party plugin: it
 * uses only the public hooks and exports of `@orchestrate/core`, as the
 * first-party plugins do. docs/plugins.md in the orchestrate repository
 * explains every hook it taps.
 *
 * What ninja needs from a checkpoint build, and what this plugin does for it:
 * - ninja decides by mtimes, its build log (.ninja_log: each output's command
 *   hash and mtime) and its dependency log (.ninja_deps: headers each object
 *   read). The core replays every restored file's mtime and gives changed
 *   sources newer ones; the plugin keeps both logs as state, so ninja rebuilds
 *   exactly what a change requires, including edges whose command changed.
 * - ninja's commands do not show which compiler `${CC:-cc}` runs, nor does
 *   its log: the compiler's identity is part of the fingerprint.
 * - Paths. A build.ninja that names files relative to its directory gives
 *   logs with relative paths: relocatable. Absolute paths into the tree
 *   (an absolute -I, or absolute inputs) end up in .ninja_deps; restored at
 *   another path they would name the old tree, so such a checkpoint is
 *   refused and the build goes on in full.
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointRefusedError, listFiles, toolIdentity, validatePluginOptions, z } from '@orchestrate/core';

/** Used for every tap and in error messages. */
export const PLUGIN_NAME = 'ninja';
/** Starts every options error. */
const PACKAGE_NAME = 'orchestrate-plugin-ninja';

/** The plugin's options; unknown keys are an error. */
export const ninjaOptionsSchema = z.strictObject({
  /** The ninja program. @default "ninja" */
  command: z.string().min(1).optional(),
  /** The ninja file, relative to the source directory. @default "build.ninja" */
  file: z.string().min(1).optional(),
  /**
   * The build directory, relative to the project directory: where build.ninja
   * writes its outputs and its `builddir` (ninja's logs). The whole directory
   * is the build state. @default "out"
   */
  buildDir: z.string().min(1).optional(),
  /** Targets to build. @default the file's defaults */
  targets: z.array(z.string().min(1)).optional(),
  /** Parallel jobs (`-j`). @default ninja's own choice */
  jobs: z.int({ error: 'a positive whole number' }).positive({ error: 'a positive whole number' }).optional(),
});

/**
 * Creates the plugin.
 * @param {z.input<typeof ninjaOptionsSchema>} [userOptions]
 * @returns {import('@orchestrate/core').Plugin}
 * @throws PluginOptionsError (code ERR_PLUGIN_OPTIONS) for an unknown option or a value of the wrong type
 */
export function ninja(userOptions = {}) {
  const options = validatePluginOptions(PACKAGE_NAME, ninjaOptionsSchema, userOptions);
  const command = options.command ?? 'ninja';
  const file = options.file ?? 'build.ninja';
  const targets = options.targets ?? [];
  const commonArgs = ['-f', file, ...(options.jobs === undefined ? [] : ['-j', String(options.jobs)])];

  return {
    name: PLUGIN_NAME,
    apply({ hooks, logger: scoped }) {
      const logger = scoped(PLUGIN_NAME);

      // A default: the user's `buildDir` wins.
      hooks.resolveConfig.tap(PLUGIN_NAME, (draft) => ({ ...draft, buildDir: draft.buildDir ?? options.buildDir ?? 'out' }));

      // What ninja cannot see: which ninja, which compiler, which file and targets.
      hooks.fingerprint.tapPromise(PLUGIN_NAME, async (fingerprint, ctx) => {
        const cc = ctx.env['CC'] || 'cc';
        const [ninjaId, ccId] = await Promise.all([
          toolIdentity(command, ['--version']),
          toolIdentity(cc.split(/\s+/)[0] ?? cc, ['--version']),
        ]);
        return {
          ...fingerprint,
          'ninja.program': ninjaId,
          'ninja.file': file,
          'ninja.targets': JSON.stringify(targets),
          'toolchain.cc': ccId,
        };
      });

      // A checkpoint saved at another path is usable only if ninja's logs name no file of that tree.
      hooks.validateCheckpoint.tapPromise(PLUGIN_NAME, async (manifest, ctx) => {
        const oldRoot = manifest.roots.source;
        if (oldRoot === ctx.sourceDir) return undefined;
        for (const log of ['.ninja_deps', '.ninja_log']) {
          const record = manifest.state[log];
          if (!record?.blob) continue;
          const content = await ctx.store.readBlob(record.blob);
          if (content.includes(`${oldRoot}/`)) {
            return {
              reason: `${log} names files under ${oldRoot}, where the checkpoint was built (absolute paths in ${file}); name files relative to ${file} to make its checkpoints relocatable`,
            };
          }
        }
        return undefined;
      });

      // For an edge with `restat = 1` ninja compares the output's mtime in .ninja_log, not the file's,
      // with its inputs'. When a checkpoint's times reach this machine's clock (saved by a machine whose
      // clock ran ahead) the core moves every restored time back by `timeShiftNs`; the logged times
      // follow, or they would stay ahead of an edited source's new time and hide the edit.
      // (.ninja_deps times need nothing: ninja only requires them not to be older than the output.)
      hooks.afterRestore.tapPromise(PLUGIN_NAME, async (result, ctx) => {
        if (result.timeShiftNs === 0n) return;
        const path = join(ctx.buildDir, '.ninja_log');
        const text = await readFile(path, 'utf8').catch(() => undefined);
        if (text === undefined) return;
        const lines = text.split('\n');
        if (!/^# ninja log v\d+$/.test(lines[0] ?? ''))
          throw new CheckpointRefusedError(`its .ninja_log has an unknown header '${lines[0]}'`);
        const shifted = lines.map((line, i) => {
          const fields = line.split('\t');
          if (i === 0 || fields.length < 5 || !/^\d+$/.test(fields[2] ?? '')) return line;
          const mtime = BigInt(fields[2]);
          fields[2] = String(mtime > result.timeShiftNs ? mtime - result.timeShiftNs : 0n);
          return fields.join('\t');
        });
        await writeFile(path, shifted.join('\n'));
        logger.debug(`.ninja_log times moved back by ${result.timeShiftNs} ns`);
      });

      hooks.build.tapPromise(PLUGIN_NAME, async (ctx) => {
        const run = (args) => {
          logger.info(`${command} ${args.join(' ')}`);
          return ctx.exec(command, args, { cwd: ctx.sourceDir, logger });
        };
        // A full build trusts no output already there (it may be another compiler's): ninja removes them.
        if (ctx.mode === 'full' && existsSync(join(ctx.buildDir, '.ninja_log'))) await run([...commonArgs, '-t', 'clean']);
        // An edited ninja file may drop edges: their outputs go, as a clean build would not have them.
        if (ctx.mode === 'incremental' && changedPaths(ctx.changes).includes(file)) await run([...commonArgs, '-t', 'cleandead']);
        const result = await run([...commonArgs, ...targets]);
        return { command: result.command };
      });

      // The state: the whole build directory, ninja's two logs included.
      hooks.selectState.tapPromise(PLUGIN_NAME, async (selection, ctx) => {
        const files = listFiles(ctx.buildDir).map((path) => ({ path }));
        if (!files.some((f) => f.path === '.ninja_log')) {
          logger.warn(
            `no .ninja_log in ${ctx.buildDir}: set 'builddir' in ${file} to the build directory, or the checkpoint cannot tell ninja what it built`,
          );
        }
        return { files: [...selection.files, ...files] };
      });
    },
  };
}

/** Every path of a change set. */
function changedPaths(changes) {
  if (!changes) return [];
  return [...changes.added, ...changes.modified, ...changes.removed, ...changes.modeChanged, ...changes.linkChanged];
}

export default ninja;
