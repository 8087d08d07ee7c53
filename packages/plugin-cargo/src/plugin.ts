/**
 * The cargo plugin: builds a workspace with `cargo build`, keeps the profile
 * directories of its build directory as the checkpoint's state, and makes a
 * restored build directory consistent with the checkout it lands in, at any
 * absolute path, so cargo's own freshness checks give the right answer.
 *
 * Cargo decides freshness per unit from its `.fingerprint/` records: hashes of
 * the toolchain, flags, features and dependencies, and the mtimes of the files
 * in each unit's dep-info compared with the dep-info file's own mtime. The core
 * replays every recorded mtime exactly and dates every changed source strictly
 * newer than anything recorded; this plugin adds what cargo's records cannot
 * carry across a move (absolute paths), what makes a restore useless as a
 * whole (the fingerprint), and the state selection.
 */
import { readdir, realpath, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import {
  checkpointData,
  CheckpointRefusedError,
  isBinaryOutput,
  z,
  type BuildContext,
  type Plugin,
  type PluginApi,
  type StateFileSpec,
} from '@orchestrate/core';
import { describeBuildLog, parseCargoBuildLog, parseRustcInvocations, tryParseDirty } from './cargo-log.js';
import {
  cargoConfigFiles,
  cargoHome,
  detectFreshness,
  FINGERPRINT_ENV,
  FINGERPRINT_ENV_PREFIXES,
  optionEntries,
  prefixedEnv,
  type FreshnessMode,
} from './fingerprint.js';
import { buildArgs, profileDirs, resolveCargoOptions, type CargoOptions } from './options.js';
import {
  captureDepInfo,
  classifyBuildOutput,
  containsRoot,
  restoreDepInfo,
  textFromPlaceholders,
  textToPlaceholders,
  TRANSFORM_BUILD_OUTPUT,
  TRANSFORM_DEP_INFO,
  type Roots,
} from './relocation.js';
import { findRebuiltUnits } from './rebuilt-units.js';
import { relocatableEnv } from './relocatable.js';
import { selectCargoState } from './state.js';
import { canonicalRustcInfo, TRANSFORM_RUSTC_INFO } from './rustc-info.js';
import { toolVersions, type ToolVersions } from './tool-versions.js';
import { readCargoDirs, tryPredictBuildDir, type CargoDirs } from './target-dir.js';

export const PLUGIN_NAME = 'cargo';

/** Version of the data this plugin keeps in `manifest.data.cargo`; a checkpoint with another is refused. */
export const CARGO_DATA_VERSION = 2;

const absolutePath = z.string().refine((path) => path.startsWith('/'), { message: 'expected an absolute path' });

/** What the plugin keeps with a checkpoint (`manifest.data.cargo`). */
const cargoDataSchema = z.object({
  /** Cargo's workspace root and build root at capture. */
  roots: z.object({ source: absolutePath, build: absolutePath }),
  /** Every spelling of those roots that was replaced by a placeholder (as given, real path). */
  spellings: z.array(z.string()),
  /** Profile directories kept, relative to the build directory. */
  profiles: z.array(z.string()),
  freshness: z.enum(['mtime', 'checksum']),
});

/** What the plugin keeps with a checkpoint (`manifest.data.cargo`). */
export type CargoCheckpointData = z.output<typeof cargoDataSchema>;

const cargoData = checkpointData(PLUGIN_NAME, CARGO_DATA_VERSION, cargoDataSchema);

/** Largest generated file under OUT_DIR that is searched for the old roots after a move. */
const OUT_FILE_SCAN_LIMIT = 16 * 1024 * 1024;

const latin1 = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function spellingsOf(...paths: string[]): Promise<string[]> {
  const out = new Set<string>();
  for (const p of paths) {
    out.add(p);
    const real = await realpath(p).catch(() => undefined);
    if (real !== undefined) out.add(real);
  }
  return [...out];
}

/** `<pkg>` of a `<pkg>-<16 hex>` directory name. */
function packageOfUnitDir(dirName: string): string | undefined {
  return /^(.+)-[0-9a-f]{16}$/.exec(dirName)?.[1];
}

/** The tool identities in the fingerprint (`cargo -V`, `rustc -vV`, run where cargo runs so a rust-toolchain.toml override is seen). */
interface ToolProbe {
  readonly key: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly result: Promise<ToolVersions & { cached: boolean }>;
}

/** What a probe depends on besides the environment object, which is the same object in resolveConfig and in the context. */
const probeKey = (cwd: string, env: Readonly<Record<string, string | undefined>>, cargoCommand: string): string =>
  JSON.stringify([cwd, cargoCommand, env['RUSTC'] || 'rustc']);

function probeTools(cwd: string, env: Readonly<Record<string, string | undefined>>, cargoCommand: string): ToolProbe {
  return {
    key: probeKey(cwd, env, cargoCommand),
    env,
    result: toolVersions({ cwd, env, cargo: cargoCommand, rustc: env['RUSTC'] || 'rustc' }),
  };
}

/**
 * Creates the cargo plugin; see {@link CargoOptions}.
 * @throws `PluginOptionsError` (code `ERR_PLUGIN_OPTIONS`) for an unknown option, a value of the wrong type, or a name cargo would not take
 */
export function cargo(userOptions: CargoOptions = {}): Plugin {
  const options = resolveCargoOptions(userOptions);
  const profiles = profileDirs(options);

  return {
    name: PLUGIN_NAME,
    apply(orchestrator: PluginApi) {
      const { hooks } = orchestrator;
      const logger = orchestrator.logger(PLUGIN_NAME);
      const cargoCommand = (env: Readonly<Record<string, string | undefined>>): string => options.cargo ?? env['CARGO'] ?? 'cargo';

      /** Cargo's view of this checkout: `cargo metadata`, started in resolveConfig and read by the fingerprint hook. */
      let metadata: Promise<CargoDirs> | undefined;
      let dirs: CargoDirs | undefined;
      /** The build directory of the resolved config. */
      let configBuildDir: string | undefined;
      /** The tool versions, started beside `cargo metadata` so the three processes overlap. */
      let tools: ToolProbe | undefined;
      let freshness: FreshnessMode = 'mtime';
      /** Capture: the spellings of this checkout's roots. */
      let captureRoots: Roots | undefined;
      /** Restore: the roots placeholders become, and what the transforms saw. */
      let restore:
        | {
            source: string;
            build: string;
            moved: boolean;
            spellings: readonly string[];
            relocated: number;
            external: Set<string>;
            unrelocatable: string[];
          }
        | undefined;

      const cargoDirs = async (): Promise<CargoDirs> => {
        if (dirs) return dirs;
        if (!metadata) throw new Error('cargo metadata was not read (resolveConfig did not run)');
        dirs = await metadata;
        if (configBuildDir !== undefined && resolve(configBuildDir) !== resolve(dirs.buildDir)) {
          logger.warn(
            `the configured buildDir '${configBuildDir}' is not cargo's build directory '${dirs.buildDir}'; the checkpoint will not hold cargo's state`,
          );
        }
        return dirs;
      };

      hooks.resolveConfig.tapPromise(PLUGIN_NAME, async (draft, env) => {
        const workspace = resolve(env.projectDir, draft.sourceDir ?? '.');
        tools = probeTools(workspace, env.env, cargoCommand(env.env));
        // Settled here so a failed metadata read leaves no unhandled rejection behind.
        tools.result.catch(() => undefined);
        metadata = readCargoDirs(workspace, { env: { ...env.env }, cargo: cargoCommand(env.env) });
        metadata.catch(() => undefined); // reported where it is awaited
        if (draft.buildDir !== undefined) return draft;
        // The build directory holds every file freshness depends on; the target
        // directory only adds the uplifted artifacts, which cargo links again.
        // Where nothing can move it, it is known without waiting for cargo metadata,
        // which then runs beside the fingerprint and the source scan.
        const predicted = tryPredictBuildDir(workspace, env.env, cargoConfigFiles(workspace, cargoHome(env.env, workspace)));
        return { ...draft, buildDir: predicted ?? (await metadata).buildDir };
      });

      hooks.configResolved.tap(PLUGIN_NAME, (config) => {
        configBuildDir = config.buildDir;
      });

      hooks.fingerprint.tapPromise(PLUGIN_NAME, async (fingerprint, ctx) => {
        const out = { ...fingerprint, ...optionEntries(options) };
        // The probe started in resolveConfig (beside cargo metadata) serves when it ran in the same
        // directory, with the same tools and environment.
        const probe =
          tools && tools.env === ctx.env && tools.key === probeKey(ctx.sourceDir, ctx.env, cargoCommand(ctx.env))
            ? tools
            : probeTools(ctx.sourceDir, ctx.env, cargoCommand(ctx.env));
        // cargo metadata's answer, compared with the build directory the config uses.
        const [versions] = await Promise.all([probe.result, cargoDirs()]);
        if (versions.cached) logger.debug('cargo -V and rustc -vV: kept from an earlier run with the same tools and toolchain settings');
        out['cargo.cargo'] = versions.cargo;
        out['cargo.rustc'] = versions.rustc;
        for (const name of FINGERPRINT_ENV) out[`env.${name}`] = ctx.env[name] ?? '';
        for (const prefix of FINGERPRINT_ENV_PREFIXES) out[`env.${prefix}*`] = prefixedEnv(ctx.env, prefix);
        const home = cargoHome(ctx.env, ctx.sourceDir);
        out['cargo.home'] = home;
        const detected = await detectFreshness(options.args, ctx.env, cargoConfigFiles(ctx.sourceDir, home));
        freshness = detected.mode;
        out['cargo.freshness'] = detected.mode;
        if (detected.mode === 'checksum') {
          logger.info(
            `checksum freshness is enabled (${detected.source ?? 'config'}): cargo compares rustc inputs by content; build scripts' rerun-if-changed stays mtime-based`,
          );
        }
        return out;
      });

      hooks.validateCheckpoint.tapPromise(PLUGIN_NAME, async (manifest) =>
        cargoData.read(manifest) === undefined ? { reason: 'it holds no cargo plugin data' } : undefined,
      );

      hooks.beforeRestore.tapPromise(PLUGIN_NAME, async (plan, ctx) => {
        const data = cargoData.read(plan.manifest);
        if (!data) throw new CheckpointRefusedError('it holds no cargo plugin data');
        const current = await cargoDirs();
        const moved = data.roots.source !== current.workspaceRoot || data.roots.build !== current.buildDir;
        restore = {
          source: current.workspaceRoot,
          build: current.buildDir,
          moved,
          spellings: data.spellings,
          relocated: 0,
          external: new Set(),
          unrelocatable: [],
        };
        if (moved) {
          // rustc hashes its working directory (the workspace root) into the key of its incremental
          // caches and discards them after a move; after a move of the build directory alone it keeps
          // them but the dependencies' new paths invalidate most of it (README: the incremental cache
          // after a move). Restoring incremental/ would only cost time.
          let skipped = 0;
          for (const path of [...plan.entries.keys()]) {
            if (/^[^/]+\/incremental(\/|$)/.test(path) || /^[^/]+\/[^/]+\/incremental(\/|$)/.test(path)) {
              plan.skip(path, 'rustc does not reuse incremental caches after a move');
              skipped++;
            }
          }
          if (skipped > 0) logger.debug(`not restoring ${skipped} incremental/ entries: the tree moved`);
        }
        const packageDirs = new Map(current.packages.map((p) => [p.name, relative(current.workspaceRoot, p.manifestDir)]));
        // <profile>/build/<pkg>-<hash>/output → why that script must run again
        const reruns = new Map<string, string>();
        for (const [path, record] of plan.entries) {
          const m = /^(.+)\/build\/([^/]+)\/(output|out\/.+)$/.exec(path);
          if (!m || !record.blob) continue;
          const [, profile, dirName, file] = m as unknown as [string, string, string, string];
          const key = `${profile}/build/${dirName}`;
          if (file === 'output') {
            const text = (await ctx.store.readBlob(record.blob)).toString('latin1');
            const pkg = packageOfUnitDir(dirName);
            const c = classifyBuildOutput(text, pkg === undefined ? undefined : packageDirs.get(pkg));
            for (const p of c.external) restore.external.add(p);
            if (!moved) continue;
            const first = c.baked[0];
            if (first) reruns.set(key, `its output hands the old path to the compiler ('cargo:${first.key}' on line ${first.line})`);
            else if (c.cargoReruns.length > 0)
              logger.info(
                `build script ${dirName} watches ${c.cargoReruns.length} absolute path(s) that cargo itself re-checks after a move; it runs again`,
              );
          } else if (moved && !reruns.has(key) && (record.size ?? 0) <= OUT_FILE_SCAN_LIMIT) {
            const bytes = await ctx.store.readBlob(record.blob);
            if (!containsRoot(bytes, data.spellings)) continue;
            // Compiled objects carry build paths in their debug info; only text that becomes code matters.
            if (bytes.subarray(0, 8000).includes(0)) {
              logger.debug(`'${path}' holds the old path in binary data; left as it is`);
              continue;
            }
            reruns.set(key, `its generated file '${file}' holds the old path`);
          }
        }
        // Outputs of units whose sources changed (and of their dependents): rustc writes them again anyway.
        const changes = ctx.changes;
        if (changes) {
          const changed = new Set(
            [...changes.modified, ...changes.removed, ...changes.linkChanged].map((p) =>
              relative(current.workspaceRoot, join(ctx.sourceDir, p)),
            ),
          );
          const rebuilt = await findRebuiltUnits(plan.entries.keys(), changed, packageDirs, async (path) => {
            const blob = plan.entries.get(path)?.blob;
            return blob === undefined ? undefined : ctx.store.readBlob(blob);
          });
          for (const u of rebuilt.units) logger.debug(`compiled again: ${u.unit}: ${u.why}`);
          let bytes = 0;
          for (const path of rebuilt.skip) {
            bytes += plan.entries.get(path)?.size ?? 0;
            plan.skip(path, 'its unit is compiled again: its sources changed');
          }
          if (rebuilt.skip.length > 0) {
            logger.debug(
              `not restoring ${rebuilt.skip.length} output(s) of ${rebuilt.units.length} unit(s) that cargo compiles again (${mb(bytes)})`,
            );
          }
        }
        // Without its `output` the script's unit is stale on the file system, not only by its
        // fingerprint file, so cargo reruns it and rebuilds every unit that depends on it too
        // (a missing fingerprint file alone would rerun the script and leave the dependents Fresh).
        for (const [key, why] of reruns) {
          const dirName = key.slice(key.lastIndexOf('/') + 1);
          plan.skip(`${key}/output`, `build script ${dirName} runs again: ${why}`);
          logger.info(`build script ${dirName} will run again after the move: ${why}`);
        }
      });

      hooks.restoreFile.for(TRANSFORM_BUILD_OUTPUT).tapPromise(PLUGIN_NAME, async (content) => {
        if (!restore) throw new Error('restore state missing');
        const r = textFromPlaceholders(content.toString('latin1'), latin1(restore.source), latin1(restore.build));
        if (r.count === 0) return content;
        if (restore.moved) restore.relocated++;
        return Buffer.from(r.text, 'latin1');
      });

      hooks.restoreFile.for(TRANSFORM_DEP_INFO).tapPromise(PLUGIN_NAME, async (content, info) => {
        if (!restore) throw new Error('restore state missing');
        const r = restoreDepInfo(content, restore.source, restore.build);
        for (const p of r.external) restore.external.add(p);
        if (!r.parsed && restore.moved && containsRoot(content, restore.spellings)) restore.unrelocatable.push(info.absolutePath);
        if (r.count > 0 && restore.moved) restore.relocated++;
        return r.bytes;
      });

      hooks.afterRestore.tapPromise(PLUGIN_NAME, async (_result, ctx) => {
        if (!restore) return;
        // A dep-info file this version cannot decode, naming the old tree: without it the unit is rebuilt.
        for (const file of restore.unrelocatable) {
          await rm(file, { force: true });
          logger.info(`'${relative(ctx.buildDir, file)}' names the old tree in a format this plugin cannot rewrite; its unit is rebuilt`);
        }
        if (restore.moved) {
          const from = (ctx.checkpoint && cargoData.tryRead(ctx.checkpoint))?.roots.source ?? '?';
          logger.info(
            `relocated from '${from}' to '${(await cargoDirs()).workspaceRoot}': ${restore.relocated} file(s) named the old roots and were rewritten`,
          );
        }
        if (restore.external.size > 0) {
          const list = [...restore.external].sort();
          logger.info(
            `${list.length} file(s) outside the workspace are watched by cargo and left alone: ${list.slice(0, 3).join(', ')}${list.length > 3 ? ', …' : ''}`,
          );
          for (const p of list) logger.debug(`outside the workspace, left alone: ${p}`);
        }
      });

      hooks.build.tapPromise(PLUGIN_NAME, async (ctx: BuildContext) => {
        const command = cargoCommand(ctx.env);
        const args = buildArgs(options);
        logger.info(`${command} ${args.join(' ')}`);
        const env = options.relocatable ? relocatableEnv(ctx.env, [(await cargoDirs()).workspaceRoot, ctx.sourceDir, ctx.buildDir]) : {};
        const result = await ctx.exec(command, args, { cwd: ctx.sourceDir, env, logger });
        const log = parseCargoBuildLog(result.stderr);
        logger.info(describeBuildLog(log));
        for (const line of log.dirty) logger.debug(`dirty: ${line}`);
        // Units are packages here: those cargo compiled, of those it compiled or found fresh.
        return { command: result.command, unitsRebuilt: log.compiling.length, unitsTotal: log.compiling.length + log.fresh.length };
      });

      hooks.explainBuild.tapPromise(PLUGIN_NAME, async (ctx) => {
        // Cargo has no dry run. explain runs in a scratch copy that is thrown away, so the build itself
        // answers: `-v` prints a `Dirty` line with cargo's reason for each package it compiles again.
        const command = cargoCommand(ctx.env);
        const args = buildArgs(options);
        const result = await ctx.exec(command, args, { cwd: ctx.sourceDir, echo: 'debug' });
        const current = await cargoDirs();
        const dirty = new Map<string, string[]>();
        for (const line of parseCargoBuildLog(result.stderr).dirty) {
          const parsed = tryParseDirty(line);
          if (parsed) dirty.set(parsed.package, [...(dirty.get(parsed.package) ?? []), parsed.reason]);
        }
        // The package of a crate: the workspace member whose directory holds its root (deepest first).
        const members = [...current.packages].sort((a, b) => b.manifestDir.length - a.manifestDir.length);
        const packageOf = (source: string | undefined): string | undefined => {
          if (source === undefined) return undefined;
          const absolute = resolve(current.workspaceRoot, source);
          return members.find((p) => absolute.startsWith(`${p.manifestDir}/`))?.name;
        };
        const units = parseRustcInvocations(result.stderr).map((rustc) => {
          const pkg = packageOf(rustc.source);
          const source = rustc.source === undefined ? undefined : relative(ctx.sourceDir, resolve(current.workspaceRoot, rustc.source));
          return {
            unit: `${rustc.crateName} (${rustc.crateType})`,
            reasons: pkg === undefined ? [] : (dirty.get(pkg) ?? []),
            ...(source === undefined || source.startsWith('..') ? {} : { sources: [source] }),
            names: [rustc.crateName, ...(pkg === undefined ? [] : [pkg])],
          };
        });
        return {
          command: `${command} ${args.join(' ')}`,
          units,
          notes: ['cargo has no dry run: the build ran in the scratch copy, and its Dirty lines are the reasons'],
        };
      });

      hooks.selectOutputs.tapPromise(PLUGIN_NAME, async (selection, ctx) => {
        // The artifacts cargo uplifts into <profile>/: executables and lib*.rlib/.so/.a/.dylib.
        const files = [...selection.files];
        for (const profile of profiles) {
          const dir = join(ctx.buildDir, profile);
          const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
          for (const entry of entries) {
            if (!entry.isFile()) continue;
            const path = `${profile}/${entry.name}`;
            if (
              /^lib.+\.(rlib|so|a|dylib)$/.test(entry.name) ||
              (/^[^.]+$/.test(entry.name) && isBinaryOutput(join(dir, entry.name), path))
            )
              files.push(path);
          }
        }
        return { files };
      });

      hooks.selectState.tapPromise(PLUGIN_NAME, async (selection, ctx) => {
        const current = await cargoDirs();
        captureRoots = {
          source: await spellingsOf(current.workspaceRoot, ctx.sourceDir),
          build: await spellingsOf(current.buildDir, ctx.buildDir),
        };
        const state = await selectCargoState(ctx.buildDir, profiles, { incremental: options.incremental });
        const files: StateFileSpec[] = [...selection.files];
        for (const path of state.paths) {
          const transform = state.transforms.get(path);
          // A build script's output and generated files: beforeRestore runs the script again when they hold
          // the old path in a way that matters, so the core's path rule leaves them to this plugin.
          const movable = /^[^/]+(\/[^/]+)?\/build\/[^/]+\/(output|root-output|out\/.+)$/.test(path) ? { movable: true } : {};
          files.push(transform === undefined ? { path, ...movable } : { path, transform, ...movable });
        }
        const skipped = Object.entries(state.skippedBytes)
          .filter(([, n]) => n > 0)
          .map(([why, n]) => `${why} ${mb(n)}`)
          .join(', ');
        logger.info(
          `state: ${state.paths.length} paths in ${profiles.join(', ')}, ${mb(state.keptBytes)} of ${mb(state.totalBytes)} ` +
            `(${mb(state.keptPathBytes)} of ${mb(state.totalPathBytes)} counting each hard link)${skipped ? `; left out: ${skipped}` : ''}`,
        );
        return { files };
      });

      hooks.captureFile.for(TRANSFORM_BUILD_OUTPUT).tapPromise(PLUGIN_NAME, async (content) => {
        if (!captureRoots) throw new Error('capture roots missing');
        const roots = { source: captureRoots.source.map(latin1), build: captureRoots.build.map(latin1) };
        const r = textToPlaceholders(content.toString('latin1'), roots);
        return r.count === 0 ? content : Buffer.from(r.text, 'latin1');
      });

      // Sorted at capture, as it is at restore: cargo reads it as a map (see rustc-info.ts).
      hooks.captureFile.for(TRANSFORM_RUSTC_INFO).tapPromise(PLUGIN_NAME, async (content) => canonicalRustcInfo(content));
      hooks.restoreFile.for(TRANSFORM_RUSTC_INFO).tapPromise(PLUGIN_NAME, async (content) => content);

      hooks.captureFile.for(TRANSFORM_DEP_INFO).tapPromise(PLUGIN_NAME, async (content, info) => {
        if (!captureRoots) throw new Error('capture roots missing');
        const r = captureDepInfo(content, captureRoots);
        if (!r.parsed) logger.debug(`'${info.path}' is not a dep-info file this plugin can read; stored as it is`);
        return r.bytes;
      });

      hooks.afterCapture.tapPromise(PLUGIN_NAME, async (manifest) => {
        const current = await cargoDirs();
        cargoData.write(manifest, {
          roots: { source: current.workspaceRoot, build: current.buildDir },
          spellings: [...new Set([...(captureRoots?.build ?? []), ...(captureRoots?.source ?? [])])],
          profiles,
          freshness,
        });
      });
    },
  };
}
