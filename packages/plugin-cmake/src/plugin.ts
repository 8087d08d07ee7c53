/**
 * The CMake plugin: configures and builds with cmake (Ninja or Unix
 * Makefiles), fingerprints what a configured tree never re-checks, captures
 * the binary directory with its absolute roots replaced by placeholders, and
 * after a restore at another path repairs ninja's log so that CMake, ninja
 * and make see exactly the tree a warm build would have.
 */
import { readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  checkpointData,
  isBinaryOutput,
  Stage,
  z,
  listFiles,
  CheckpointRefusedError,
  sha256,
  toolIdentity,
  type BuildContext,
  type CheckpointManifest,
  type Plugin,
  type PluginApi,
  type StateFileSpec,
  validatePluginOptions,
} from '@orchestrate/core';
import { parseCMakeCache, readCMakeCacheInfo, type CMakeCacheInfo } from './cmake-cache.js';
import { cmakeFingerprint } from './fingerprint.js';
import { cmakeOptionsSchema, PACKAGE_NAME, prefixMapFlags, withPrefixMaps, type CMakeOptions } from './options.js';
import {
  TRANSFORM,
  captureNinjaDeps,
  captureText,
  isNinjaCommandTable,
  readNinjaCommandTable,
  readNinjaLogVersions,
  repairNinjaLog,
  shiftNinjaLog,
  stampNinjaLogs,
  replaceRoots,
  restoreNinjaDeps,
  tryUnrelocatable,
  tryUnsupportedNinjaLogs,
  type NinjaCommandTable,
  type Roots,
} from './relocate.js';
import { trySourceOfObject, tryExclusionReason } from './state.js';
import { parseNinjaExplain, parseNinjaQuery, parseNinjaTargets } from './ninja-explain.js';

export const PLUGIN_NAME = 'cmake';

/** An object file of a target: `CMakeFiles/<target>.dir/<source>.o`. */
const isObjectFile = (path: string): boolean => /\.dir\/.+\.(o|obj)$/.test(path);

const absolutePath = z.string().refine((path) => path.startsWith('/'), { message: 'expected an absolute path' });

/** What the plugin keeps in `manifest.data.cmake`. */
const cmakeDataSchema = z.object({
  generator: z.string(),
  /** The roots CMake recorded (`CMAKE_HOME_DIRECTORY`, `CMAKE_CACHEFILE_DIR`), replaced by placeholders in the blobs. */
  roots: z.object({ source: absolutePath, build: absolutePath }),
  /** The compilers CMake detected, by cache key (`CMAKE_CXX_COMPILER`), with their identity at capture. */
  compilers: z.record(z.string(), z.object({ path: z.string(), identity: z.string() })),
  ninjaLogVersion: z.number().optional(),
  ninjaDepsVersion: z.number().optional(),
  /** The blobs of the `.ninja` files the attached command table was evaluated from (Ninja generator). */
  ninjaCommandsFrom: z.string().optional(),
});

/** What the plugin keeps in `manifest.data.cmake`. */
export type CMakeCheckpointData = z.output<typeof cmakeDataSchema>;

/** Bumped when {@link CMakeCheckpointData} changes incompatibly. */
const cmakeData = checkpointData(PLUGIN_NAME, 2, cmakeDataSchema);

/** The attachment holding the checkpoint's {@link NinjaCommandTable}. */
const NINJA_COMMANDS_ATTACHMENT = 'cmake.ninja-commands';

/** Identifies the ninja manifest of a capture: each `.ninja` state file with its blob. */
function ninjaFilesKey(manifest: CheckpointManifest): string {
  const files = Object.entries(manifest.state)
    .filter(([path, record]) => path.endsWith('.ninja') && record.blob !== undefined)
    .map(([path, record]) => `${path}\0${record.blob}`);
  return sha256(files.sort().join('\n'));
}

async function tryReadCache(buildDir: string): Promise<CMakeCacheInfo | undefined> {
  const text = await readFile(join(buildDir, 'CMakeCache.txt')).catch(() => undefined);
  if (!text) return undefined;
  try {
    return readCMakeCacheInfo(parseCMakeCache(text));
  } catch {
    return undefined;
  }
}

/** Compiler cache entries (`CMAKE_<LANG>_COMPILER`) of a configured tree. */
function compilerEntries(text: Buffer): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, entry] of parseCMakeCache(text).entries) {
    if (/^CMAKE_[A-Z0-9_]+_COMPILER$/.test(key) && entry.value.startsWith('/')) out.push([key, entry.value]);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : 1));
}

/** The checkpoint's command table, or `undefined` (then the manifest is evaluated): never trusted for more than a hint. */
async function tryCommandTable(manifest: CheckpointManifest | undefined, ctx: BuildContext): Promise<NinjaCommandTable | undefined> {
  const blob = manifest?.attachments?.[NINJA_COMMANDS_ATTACHMENT];
  if (blob === undefined) return undefined;
  try {
    const table: unknown = JSON.parse((await ctx.store.readBlob(blob)).toString('utf8'));
    return isNinjaCommandTable(table) ? table : undefined;
  } catch (error) {
    ctx.logger.debug(`the checkpoint's ninja command table is unusable (${(error as Error).message}); evaluating build.ninja`);
    return undefined;
  }
}

/**
 * Creates the CMake plugin; see {@link CMakeOptions}.
 * @throws `PluginOptionsError` (code `ERR_PLUGIN_OPTIONS`) for an unknown option or a value of the wrong type
 */
export function cmake(userOptions: CMakeOptions = {}): Plugin {
  const options = validatePluginOptions(PACKAGE_NAME, cmakeOptionsSchema, userOptions);
  const generator = options.generator ?? 'Ninja';
  const cmakeCommand = options.cmake ?? 'cmake';

  return {
    name: PLUGIN_NAME,
    apply(orchestrator: PluginApi) {
      const { hooks } = orchestrator;
      const logger = orchestrator.logger(PLUGIN_NAME);
      /** Roots of the tree being captured (what CMake recorded), set in `selectState`. */
      let captureRoots: Roots | undefined;

      const currentRoots = (ctx: BuildContext): Roots => ({ source: ctx.sourceDir, build: ctx.buildDir });

      hooks.resolveConfig.tap(PLUGIN_NAME, (draft) =>
        draft.buildDir === undefined ? { ...draft, buildDir: options.buildDir ?? 'build' } : draft,
      );

      hooks.fingerprint.tapPromise(PLUGIN_NAME, (fingerprint, ctx) => cmakeFingerprint(fingerprint, ctx, options));

      hooks.validateCheckpoint.tapPromise(PLUGIN_NAME, async (manifest, ctx) => {
        const data = cmakeData.read(manifest);
        if (!data) return { reason: 'it holds no cmake plugin data' };
        if (data.generator !== generator) return { reason: `it was built with the '${data.generator}' generator, not '${generator}'` };
        // CMake detects the compiler once and caches it: a compiler changed in place is invisible to it.
        for (const [key, compiler] of Object.entries(data.compilers)) {
          const path = replaceRoots(Buffer.from(compiler.path), [
            [data.roots.build, ctx.buildDir],
            [data.roots.source, ctx.sourceDir],
          ]).toString();
          const identity = await toolIdentity(path, ['--version']);
          // `<real path> | <version> | <hash>`: the path may move with the tree; the version and the binary may not change.
          const sameTool = (a: string, b: string): boolean =>
            !a.startsWith('missing:') && a.split(' | ').slice(1).join(' | ') === b.split(' | ').slice(1).join(' | ');
          if (!sameTool(identity, compiler.identity)) {
            return { reason: `the compiler CMake detected (${key}) changed: '${compiler.identity}' → '${identity}'` };
          }
        }
        const to = currentRoots(ctx);
        if (data.roots.source !== to.source || data.roots.build !== to.build) {
          const why =
            tryUnrelocatable(data.roots, to) ?? tryUnsupportedNinjaLogs({ log: data.ninjaLogVersion, deps: data.ninjaDepsVersion });
          if (why) return { reason: `it cannot be relocated from '${data.roots.build}' to '${to.build}': ${why}` };
        }
        return undefined;
      });

      hooks.beforeRestore.tapPromise(PLUGIN_NAME, async (plan, ctx) => {
        // Binaries that name the old directories (a build RUNPATH, debug info) are left out by the core
        // at another path (their records are pathBound), unless allowPathsInBinaries made them movable.
        // Objects of removed sources: a build that no longer lists them never deletes them.
        const removed = new Set(ctx.changes?.removed ?? []);
        if (removed.size === 0) return;
        for (const path of [...plan.entries.keys()]) {
          const source = trySourceOfObject(path);
          if (source !== undefined && removed.has(source)) plan.skip(path, `object of the removed source '${source}'`);
        }
      });

      hooks.restoreFile
        .for(TRANSFORM.ninjaDeps)
        .tapPromise(PLUGIN_NAME, async (content, info) => restoreNinjaDeps(content, currentRoots(info.context)));

      hooks.afterRestore.tapPromise(PLUGIN_NAME, async (result, ctx) => {
        const data = ctx.checkpoint && cmakeData.read(ctx.checkpoint);
        if (!data) throw new CheckpointRefusedError('it has no cmake plugin data');
        const to = currentRoots(ctx);
        const moved = data.roots.source !== to.source || data.roots.build !== to.build;
        if (moved && generator === 'Ninja') {
          const { changed, stale } = await repairNinjaLog(ctx.buildDir, data.roots, to, await tryCommandTable(ctx.checkpoint, ctx));
          logger.debug(`relocated from '${data.roots.build}': ${changed.length} ninja log hashes recomputed`);
          if (stale.length > 0) {
            logger.debug(
              `${stale.length} ninja log entries do not match their command and will run again (${stale.slice(0, 3).join(', ')})`,
            );
          }
        }
        if (generator === 'Ninja') await shiftNinjaLog(ctx.buildDir, result.timeShiftNs);
        if (generator === 'Ninja' && result.flatTimeNs !== undefined) await stampNinjaLogs(ctx.buildDir, result.flatTimeNs);
        // Never build on a tree that names other directories: CMake would refuse, or read the old sources.
        const cache = await tryReadCache(ctx.buildDir);
        if (!cache) throw new CheckpointRefusedError('its CMakeCache.txt is missing or unreadable');
        if (cache.homeDirectory !== to.source || cache.cacheFileDir !== to.build) {
          throw new CheckpointRefusedError(
            `after relocation its CMakeCache.txt names source '${cache.homeDirectory}' and build '${cache.cacheFileDir}', not '${to.source}' and '${to.build}'`,
          );
        }
        if (moved) logger.info(`relocated the build directory from '${data.roots.build}' to '${to.build}'`);
      });

      hooks.configure.tapPromise(PLUGIN_NAME, async (ctx) => {
        const cache = await tryReadCache(ctx.buildDir);
        const to = currentRoots(ctx);
        ctx.data.set(`${PLUGIN_NAME}.warm`, cache !== undefined);
        if (ctx.mode === 'incremental' && cache) {
          // The restored tree is configured; CMake's own regeneration rule re-runs it when a build file changed.
          return undefined;
        }
        if (cache && (cache.homeDirectory !== to.source || cache.cacheFileDir !== to.build || cache.generator !== generator)) {
          logger.warn(`removing CMakeCache.txt and CMakeFiles/ of another configuration ('${cache.homeDirectory}', ${cache.generator})`);
          await rm(join(ctx.buildDir, 'CMakeCache.txt'), { force: true });
          await rm(join(ctx.buildDir, 'CMakeFiles'), { force: true, recursive: true });
        }
        const args = ['-S', ctx.sourceDir, '-B', ctx.buildDir, '-G', generator];
        if (options.buildType !== undefined) args.push(`-DCMAKE_BUILD_TYPE=${options.buildType}`);
        const cacheArgs = options.cacheArgs ?? [];
        args.push(...(options.relocatable === true ? withPrefixMaps(cacheArgs, prefixMapFlags(to.source, to.build), ctx.env) : cacheArgs));
        logger.info(`${cmakeCommand} ${args.join(' ')}`);
        const result = await ctx.exec(cmakeCommand, args, { cwd: ctx.sourceDir, logger });
        return { command: result.command };
      });

      hooks.build.tapPromise(PLUGIN_NAME, async (ctx) => {
        // The last line of defence against building on a tree that names other directories (CMake would read the old sources).
        const cache = await tryReadCache(ctx.buildDir);
        if (cache && (cache.homeDirectory !== ctx.sourceDir || cache.cacheFileDir !== ctx.buildDir)) {
          throw new Error(
            `CMakeCache.txt in '${ctx.buildDir}' names source '${cache.homeDirectory}' and build '${cache.cacheFileDir}'; remove the build directory and build again`,
          );
        }
        const args = ['--build', ctx.buildDir, '--parallel', String(options.jobs ?? availableParallelism())];
        for (const target of options.targets ?? []) args.push('--target', target);
        // A full build over a tree that already had state (a refused checkpoint's leftovers, a user's own build) rebuilds everything.
        if (ctx.mode === 'full' && ctx.data.get(`${PLUGIN_NAME}.warm`) === true) args.push('--clean-first');
        logger.info(`${cmakeCommand} ${args.join(' ')}`);
        const result = await ctx.exec(cmakeCommand, args, { cwd: ctx.buildDir, logger });
        if (/^-- Configuring done/m.test(result.all)) logger.info('cmake re-ran its configure step during the build');
        // Units: the targets' object files; rebuilt: the `Building <LANG> object` lines of ninja and make.
        const rebuilt = result.all.match(/^\[[^\]]*\] Building \S+ object /gm)?.length ?? 0;
        const total = listFiles(ctx.buildDir).filter(isObjectFile).length;
        return { command: result.command, unitsRebuilt: rebuilt, unitsTotal: Math.max(total, rebuilt) };
      });

      hooks.explainBuild.tapPromise(PLUGIN_NAME, async (ctx) => {
        if (generator !== 'Ninja') {
          logger.info(`explain asks ninja only; the '${generator}' generator is not asked what it would rebuild`);
          return undefined;
        }
        const text = await readFile(join(ctx.buildDir, 'CMakeCache.txt')).catch(() => undefined);
        const program = (text && parseCMakeCache(text).entries.get('CMAKE_MAKE_PROGRAM')?.value) || 'ninja';
        const args = ['-n', '-d', 'explain', ...(options.targets ?? [])];
        const run = (argv: string[]) => ctx.exec(program, argv, { cwd: ctx.buildDir, echo: 'debug' });
        const explained = parseNinjaExplain((await run(args)).all);
        const rules = parseNinjaTargets((await run(['-t', 'targets', 'all'])).stdout);
        // What ninja runs: dirty outputs of real edges (phony ones are aliases, the regeneration edge is cmake's).
        const dirty = [...explained.keys()].filter((path) => rules.has(path) && rules.get(path) !== 'phony');
        // An output dirty only through an input says so without naming it: its dirty inputs, from ninja's graph.
        const bare = dirty.filter((path) => (explained.get(path) ?? []).every((line) => line.endsWith(' is dirty')));
        const inputs = bare.length === 0 ? new Map<string, string[]>() : parseNinjaQuery((await run(['-t', 'query', ...bare])).stdout);
        const units = dirty.map((path) => {
          const reasons = [...(explained.get(path) ?? [])];
          for (const input of inputs.get(path) ?? []) if (explained.has(input)) reasons.push(`input ${input} is dirty (ninja -t query)`);
          const source = trySourceOfObject(path);
          return {
            unit: path,
            reasons,
            ...(source === undefined ? {} : { sources: [source] }),
            ...(reasons.some((line) => line.startsWith('command line changed')) ? { commandChanged: true } : {}),
          };
        });
        return { command: `${program} ${args.join(' ')}`, units };
      });

      hooks.selectOutputs.tapPromise(PLUGIN_NAME, async (selection, ctx) => {
        // Executables and libraries in the binary directory, less CMake's own (compiler detection under CMakeFiles/).
        const files = [...selection.files];
        for (const path of listFiles(ctx.buildDir, (dir) => dir === 'CMakeFiles' || dir.endsWith('/CMakeFiles'))) {
          if (isBinaryOutput(join(ctx.buildDir, path), path)) files.push(path);
        }
        return { files };
      });

      hooks.selectState.tapPromise(PLUGIN_NAME, async (selection, ctx) => {
        const cache = await tryReadCache(ctx.buildDir);
        captureRoots = cache ? { source: cache.homeDirectory, build: cache.cacheFileDir } : currentRoots(ctx);
        const files: StateFileSpec[] = [...selection.files];
        for (const path of listFiles(ctx.buildDir)) {
          const why = tryExclusionReason(path);
          if (why) {
            logger.debug(`not capturing '${path}': ${why}`);
            continue;
          }
          // allowPathsInBinaries: restored at another path even when a binary names the old directories.
          const movable = options.allowPathsInBinaries === true ? { movable: true } : {};
          if (path === '.ninja_log') files.push({ path, ...movable });
          else if (path === '.ninja_deps') files.push({ path, transform: TRANSFORM.ninjaDeps, ...movable });
          else files.push({ path, transform: TRANSFORM.text, ...movable });
        }
        return { files };
      });

      // After the core's roots transform (which replaced this tree's directories): CMake's own spelling
      // of the roots too. A root left in the bytes (a binary naming the build's directories) makes the
      // core's record pathBound.
      hooks.captureFile
        .for(TRANSFORM.text)
        .tapPromise(
          { name: PLUGIN_NAME, stage: Stage.AfterCore },
          async (content, info) => captureText(content, captureRoots ?? currentRoots(info.context)).content,
        );
      hooks.captureFile
        .for(TRANSFORM.ninjaDeps)
        .tapPromise(PLUGIN_NAME, async (content, info) => captureNinjaDeps(content, captureRoots ?? currentRoots(info.context)).content);

      hooks.afterCapture.tapPromise(PLUGIN_NAME, async (manifest, ctx) => {
        const roots = captureRoots ?? currentRoots(ctx);
        const cacheText = await readFile(join(ctx.buildDir, 'CMakeCache.txt'));
        const compilers: Record<string, { path: string; identity: string }> = {};
        for (const [key, path] of compilerEntries(cacheText)) compilers[key] = { path, identity: await toolIdentity(path, ['--version']) };
        const previous = ctx.checkpoint ? cmakeData.tryRead(ctx.checkpoint) : undefined;
        const versions = await readNinjaLogVersions(ctx.buildDir);
        let ninjaCommandsFrom: string | undefined;
        if (generator === 'Ninja') {
          // Kept from the restored checkpoint while its manifest files are unchanged; else evaluated once here.
          ninjaCommandsFrom = ninjaFilesKey(manifest);
          const candidate =
            previous?.ninjaCommandsFrom === ninjaCommandsFrom ? ctx.checkpoint?.attachments?.[NINJA_COMMANDS_ATTACHMENT] : undefined;
          const kept = candidate !== undefined && (await ctx.store.hasBlob(candidate)) ? candidate : undefined;
          const table =
            kept ??
            (await readNinjaCommandTable(ctx.buildDir, roots).then(
              (commands) => ctx.store.putBlob(Buffer.from(JSON.stringify(commands))),
              (error: unknown) => {
                logger.debug(`no ninja command table kept: ${(error as Error).message}`);
                return undefined;
              },
            ));
          if (table === undefined) ninjaCommandsFrom = undefined;
          else manifest.attachments = { ...manifest.attachments, [NINJA_COMMANDS_ATTACHMENT]: table };
        }
        const data: CMakeCheckpointData = {
          generator,
          roots,
          compilers,
          ...(versions.log === undefined ? {} : { ninjaLogVersion: versions.log }),
          ...(versions.deps === undefined ? {} : { ninjaDepsVersion: versions.deps }),
          ...(ninjaCommandsFrom === undefined ? {} : { ninjaCommandsFrom }),
        };
        cmakeData.write(manifest, data);
      });
    },
  };
}
