/**
 * The make plugin: runs make, fingerprints what make cannot see (its version,
 * the compilers, flags and command-line variables), refuses a checkpoint when
 * a makefile changed, keeps outputs of removed sources from being restored,
 * and selects the build state: the object directory, or for an in-source
 * build every file the build created or changed.
 */
import { lstatSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import picomatch from 'picomatch';
import {
  checkpointData,
  isBinaryOutput,
  listFiles,
  ROOTS_TRANSFORM,
  z,
  rootMapper,
  toolIdentity,
  type BuildContext,
  type Plugin,
  type PluginApi,
  type StateFileSpec,
  validatePluginOptions,
} from '@orchestrate/core';
import { parseDepFile } from './dep-files.js';
import { dependentsOf, parseMakeDatabase, type MakeGraph } from './make-database.js';
import { DEFAULT_BUILD_FILES, FINGERPRINT_ENV, makeOptionsSchema, PACKAGE_NAME, type MakeOptions } from './options.js';

export const PLUGIN_NAME = 'make';

/** What the plugin keeps with a checkpoint: make's graph, target -> prerequisites, of the edges into state files. */
const makeData = checkpointData(PLUGIN_NAME, 2, z.object({ graph: z.record(z.string(), z.array(z.string())) }));

/** Dependency files: compilers write the headers they read as they resolved them, absolute with `-I/abs`. */
const DEPENDENCY_FILE = /\.(d|dep|P|Po|Plo)$/;

/**
 * A state file; dependency files pass through the core's roots transform, so
 * a tree restored at another path names its own headers, not the old tree's
 * (stale, if the old tree still exists).
 */
function stateFile(path: string): StateFileSpec {
  return DEPENDENCY_FILE.test(path) ? { path, transform: ROOTS_TRANSFORM } : { path };
}

/** What the plugin learns during one run. */
interface RunState {
  /** The build directory's files before the build (an in-source build's snapshot). */
  snapshot?: Map<string, string>;
  /** The object files before the build, with their stamps (counts the units the build compiled). */
  objectsBefore?: Map<string, string>;
  /** The build directory's files right after the build (the build hook's snapshot, reused by selectState). */
  afterBuild?: Map<string, string>;
  /** make's database, read while the state is captured (started in selectState, used in afterCapture). */
  graphRead?: Promise<MakeGraph | undefined>;
  /** The restored checkpoint's graph, when nothing it is made from changed (set in selectState). */
  carriedGraph?: MakeGraph | undefined;
}

/** Every file and link below `root` (relative POSIX paths) with a stamp of its identity. */
function snapshotTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const isGit = (path: string): boolean => path === '.git' || path.endsWith('/.git');
  for (const path of listFiles(root, isGit)) {
    if (isGit(path)) continue; // a .git file: a work tree's or submodule's pointer
    const info = lstatSync(join(root, path), { bigint: true, throwIfNoEntry: false });
    if (info) out.set(path, `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`);
  }
  return out;
}


/** Object files: one per compiled unit. */
const OBJECT_FILE = /\.(o|obj)$/;

function objectStamps(tree: ReadonlyMap<string, string>): Map<string, string> {
  return new Map([...tree].filter(([path]) => OBJECT_FILE.test(path)));
}

/** Drops MAKEFLAGS parts that change from run to run (jobserver descriptors). */
function stableMakeflags(value: string | undefined): string {
  return (value ?? '')
    .split(/\s+/)
    .filter((part) => part && !part.startsWith('--jobserver') && !part.startsWith('-j'))
    .join(' ');
}

/** Files make may read as makefiles: make's own names, included fragments and dependency files. */
const MAKEFILE_LIKE =
  /(^|\/)((GNUmakefile|makefile|Makefile)(\.[^/]*)?|\.depend|\.config|\.[^/]*\.cmd)$|\.(mk|mak|make|d|dep|deps|P|Po|Plo|Tpo)$/;

/**
 * The restored checkpoint's make graph, relocated to this tree, when the
 * graph `make -pq` would print now is the same: the build was incremental,
 * no source was added, removed or retargeted, no modified source and no file
 * the build rewrote is one make reads as a makefile (a build file of the
 * plugin's options, or by name, see {@link MAKEFILE_LIKE}), and the build
 * created or deleted no file. Otherwise
 * `undefined`, and make is asked. (A makefile that reads other files with
 * `$(shell ...)` is not seen; the graph only decides which outputs of a
 * later-removed source are not restored.)
 */
function tryCarryGraph(
  ctx: BuildContext,
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
  isBuildFile: (path: string) => boolean,
): MakeGraph | undefined {
  const readByMake = (path: string): boolean => isBuildFile(path) || MAKEFILE_LIKE.test(path);
  const checkpoint = ctx.checkpoint;
  const recorded = checkpoint && makeData.tryRead(checkpoint)?.graph;
  const changes = ctx.changes;
  if (ctx.mode !== 'incremental' || !checkpoint || !recorded || !changes) return undefined;
  if (changes.added.length > 0 || changes.removed.length > 0 || changes.linkChanged.length > 0) return undefined;
  if (changes.modified.some(readByMake) || changes.modeChanged.some(readByMake)) return undefined;
  if (before.size !== after.size) return undefined;
  for (const [path, stamp] of after) {
    const then = before.get(path);
    if (then === undefined || (then !== stamp && readByMake(path))) return undefined;
  }
  const relocate = rootMapper(checkpoint.roots.source, ctx.sourceDir);
  const graph: MakeGraph = {};
  for (const [target, prerequisites] of Object.entries(recorded)) graph[relocate(target)] = prerequisites.map(relocate);
  return graph;
}

/**
 * Creates the make plugin; see {@link MakeOptions}.
 * @throws `PluginOptionsError` (code `ERR_PLUGIN_OPTIONS`) for an unknown option or a value of the wrong type
 */
export function make(userOptions: MakeOptions = {}): Plugin {
  const options = validatePluginOptions(PACKAGE_NAME, makeOptionsSchema, userOptions);
  const command = options.command ?? 'make';
  const variables = options.variables ?? {};
  const buildFileMatcher = picomatch(options.buildFiles ?? DEFAULT_BUILD_FILES, { dot: true });
  const makefile = options.makefile;
  const isBuildFile = (path: string): boolean => buildFileMatcher(path) || path === makefile;
  const commonArgs = (): string[] => [
    ...(makefile ? ['-f', makefile] : []),
    ...(options.targets ?? []),
    ...Object.entries(variables).map(([name, value]) => `${name}=${value}`),
  ];

  return {
    name: PLUGIN_NAME,
    apply(orchestrator: PluginApi) {
      const { hooks } = orchestrator;
      const logger = orchestrator.logger(PLUGIN_NAME);
      /** This run's state, made anew by the `run` hook. */
      let run: RunState = {};
      hooks.run.tap(PLUGIN_NAME, () => {
        run = {};
      });

      hooks.resolveConfig.tap(PLUGIN_NAME, (draft) => {
        if (options.objDir !== undefined && draft.buildDir === undefined) return { ...draft, buildDir: options.objDir };
        return draft;
      });

      hooks.fingerprint.tapPromise(PLUGIN_NAME, async (fingerprint, ctx) => {
        const cc = variables['CC'] ?? ctx.env['CC'] ?? 'cc';
        const cxx = variables['CXX'] ?? ctx.env['CXX'] ?? 'c++';
        const out = { ...fingerprint };
        out['make.program'] = await toolIdentity(command, ['--version']);
        out['make.variables'] = JSON.stringify(Object.entries(variables).sort());
        out['make.targets'] = JSON.stringify(options.targets ?? []);
        out['make.makefile'] = makefile ?? '';
        out['toolchain.cc'] = await toolIdentity(cc.split(/\s+/)[0] ?? cc, ['--version']);
        out['toolchain.cxx'] = await toolIdentity(cxx.split(/\s+/)[0] ?? cxx, ['--version']);
        for (const name of FINGERPRINT_ENV) out[`env.${name}`] = ctx.env[name] ?? '';
        out['env.MAKEFLAGS'] = stableMakeflags(ctx.env['MAKEFLAGS']);
        return out;
      });

      hooks.validateCheckpoint.tapPromise(PLUGIN_NAME, async (_manifest, ctx) => {
        if (options.onBuildFileChange === 'incremental' || !ctx.changes) return undefined;
        const { added, modified, removed, modeChanged, linkChanged } = ctx.changes;
        const changed = [...modified, ...added, ...removed, ...linkChanged, ...modeChanged].filter(isBuildFile);
        if (changed.length === 0) return undefined;
        return {
          reason: `make does not track changes to its makefiles, and ${changed.map((p) => `'${p}'`).join(', ')} changed`,
        };
      });

      hooks.beforeRestore.tapPromise(PLUGIN_NAME, async (plan, ctx) => {
        const removed = new Set(ctx.changes?.removed ?? []);
        if (removed.size === 0) return;
        // Make names files relative to the source directory; state paths are relative to the build directory.
        const toState = ctx.statePathOf;
        const recorded = makeData.read(plan.manifest)?.graph;
        const relocate = rootMapper(plan.manifest.roots.source, ctx.sourceDir);
        const graph: MakeGraph = {};
        for (const [target, prerequisites] of Object.entries(recorded ?? {})) {
          graph[relocate(target)] = prerequisites.map(relocate);
        }
        if (!recorded) {
          // No database recorded: the dependency files are all we know.
          for (const [path, record] of plan.entries) {
            if (!path.endsWith('.d') || !record.blob) continue;
            for (const [target, prerequisites] of parseDepFile((await ctx.store.readBlob(record.blob)).toString('utf8'))) {
              graph[relocate(target)] = [...(graph[relocate(target)] ?? []), ...prerequisites.map(relocate)];
            }
          }
        }
        // Make never notices a removed prerequisite: whatever was built from a removed file, directly or
        // through other outputs (an object, then the program linked from it), is not restored, so make
        // builds it again from what is there now.
        const stale = dependentsOf(graph, removed);
        const known = new Set<string>();
        for (const target of Object.keys(graph)) {
          const statePath = toState(target);
          if (statePath !== undefined) known.add(statePath);
        }
        for (const target of stale) {
          const statePath = toState(target);
          if (statePath === undefined) continue;
          plan.skip(statePath, 'built from a removed file');
          if (statePath.endsWith('.o')) plan.skip(`${statePath.slice(0, -2)}.d`, 'dependency file of a dropped output');
        }
        // Outputs whose prerequisites make never told us (e.g. built by a recursive make) may depend on the
        // removed file too.
        for (const [path, record] of [...plan.entries]) {
          if (record.kind === 'dir' || known.has(path) || path.endsWith('.d')) continue;
          plan.skip(path, 'its prerequisites are unknown and a source was removed');
        }
      });

      hooks.beforeBuild.tapPromise(PLUGIN_NAME, async (ctx) => {
        const before = snapshotTree(ctx.buildDir);
        run.objectsBefore = objectStamps(before);
        if (options.objDir === undefined) run.snapshot = before;
      });

      const readGraph = async (ctx: BuildContext): Promise<MakeGraph | undefined> => {
        // -q runs no recipe; -p prints the database make built from the makefiles and included .d files.
        const result = await ctx.exec(command, ['-pq', ...commonArgs()], { cwd: ctx.sourceDir, reject: false, echo: false });
        const graph = parseMakeDatabase(result.stdout);
        if (Object.keys(graph).length === 0) {
          logger.debug(`no dependency graph from '${command} -pq' (exit ${result.exitCode})`);
          return undefined;
        }
        return graph;
      };

      hooks.build.tapPromise(PLUGIN_NAME, async (ctx: BuildContext) => {
        const args: string[] = [`-j${options.jobs ?? availableParallelism()}`];
        if (ctx.mode === 'full' && options.alwaysMakeOnFull !== false) args.push('-B');
        args.push(...commonArgs());
        logger.info(`${command} ${args.join(' ')}`);
        const result = await ctx.exec(command, args, { cwd: ctx.sourceDir, logger });
        // Units: the object files in the build directory; rebuilt: those the build wrote (new or changed stamps).
        run.afterBuild = snapshotTree(ctx.buildDir);
        const objects = objectStamps(run.afterBuild);
        let rebuilt = 0;
        for (const [path, stamp] of objects) if (run.objectsBefore?.get(path) !== stamp) rebuilt++;
        return { command: result.command, unitsRebuilt: rebuilt, unitsTotal: objects.size };
      });

      hooks.selectOutputs.tapPromise(PLUGIN_NAME, async (selection, ctx) => {
        // Executables, libraries and archives the build made: in the build directory, and no source.
        const sources = ctx.tree?.sources ?? new Map();
        const files = [...selection.files];
        for (const path of run.afterBuild?.keys() ?? snapshotTree(ctx.buildDir).keys()) {
          const source = ctx.sourcePathOf(path);
          if (source !== undefined && sources.has(source)) continue;
          if (isBinaryOutput(join(ctx.buildDir, path), path)) files.push(path);
        }
        return { files };
      });

      hooks.afterCapture.tapPromise(PLUGIN_NAME, async (manifest, ctx) => {
        const graph = run.carriedGraph ?? (await (run.graphRead ?? readGraph(ctx)));
        if (!graph) return;
        // Only what concerns the state is kept: edges into state files.
        const kept: MakeGraph = {};
        for (const [target, prerequisites] of Object.entries(graph)) {
          const statePath = ctx.statePathOf(target);
          if (statePath !== undefined && manifest.state[statePath] && prerequisites.length > 0) kept[target] = prerequisites;
        }
        makeData.write(manifest, { graph: kept });
      });

      const startGraphRead = (ctx: BuildContext): void => {
        // `make -pq` runs no recipe and writes nothing: it runs while the core stores the state.
        run.graphRead = readGraph(ctx);
        run.graphRead.catch(() => undefined); // reported in afterCapture
      };

      hooks.selectState.tapPromise(PLUGIN_NAME, async (selection, ctx) => {
        const files: StateFileSpec[] = [...selection.files];
        if (options.objDir !== undefined) {
          startGraphRead(ctx);
          const all = run.afterBuild ?? snapshotTree(ctx.buildDir);
          for (const path of all.keys()) files.push(stateFile(path));
          return { files };
        }
        const before = run.snapshot ?? new Map<string, string>();
        const after = run.afterBuild ?? snapshotTree(ctx.buildDir);
        run.carriedGraph = run.snapshot ? tryCarryGraph(ctx, before, after, isBuildFile) : undefined;
        if (run.carriedGraph) logger.debug('no makefile, dependency file or file set changed: the recorded make graph is kept');
        else startGraphRead(ctx);
        const sources = ctx.sources ?? new Map();
        // A file the build wrote is state unless it is a tracked source (a generated file kept in git):
        // an untracked one is an output, e.g. built by hand before the first checkpoint.
        const untracked = ctx.tree?.untracked ?? new Set<string>();
        const chosen = new Set<string>();
        for (const [path, stamp] of after) {
          if (before.get(path) !== stamp && (!sources.has(path) || untracked.has(path))) chosen.add(path);
        }
        // Restored state the build left alone is still state.
        for (const path of Object.keys(ctx.checkpoint?.state ?? {})) {
          if (after.has(path) && !sources.has(path)) chosen.add(path);
        }
        for (const path of [...chosen].sort()) files.push(stateFile(path));
        logger.debug(`${chosen.size} state files`);
        return { files };
      });
    },
  };
}
