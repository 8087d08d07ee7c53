/**
 * The contract a third-party plugin relies on, held through the public API:
 * an `Orchestrator` from `@orchestrate/core` drives a small plugin that
 * really builds (a per-file "compile" by mtime, as make decides, and a "link"
 * step through `ctx.exec` and `sh`), with a real `LocalStore` in a temporary
 * directory. What is pinned: the order the hooks run in for `prepare`,
 * `build` with and without a checkpoint, and `restore`; refusals; widened
 * change sets; errors attributed to the plugin and the hook; transforms that
 * round-trip; what `done` receives. docs/plugins.md describes the same.
 */
import { cp, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CheckpointRefusedError,
  createLogger,
  isOrchestrateError,
  LocalStore,
  Orchestrator,
  PluginError,
  Stage,
  type BuildContext,
  type BuildReport,
  type LogRecord,
  type Plugin,
  type PluginApi,
  type RunOptions,
} from '@orchestrate/core';
import { tempDir } from '@orchestrate/core/testing';

const NAME = 'fake';
/** The transform that keeps `where.txt` relocatable. */
const RELOCATE = 'fake-relocate';
const PLACEHOLDER = '@BUILD_DIR@';

/** What a test changes in the fake plugin's behaviour. */
interface FakeOptions {
  /** `validateCheckpoint` refuses with this reason. */
  refuse?: string;
  /** `changes` adds these sources to `modified`. */
  widen?: string[];
  /** The tap of this hook throws `new Error('boom')`. */
  throwIn?: 'build' | 'selectState' | 'afterRestore' | 'captureFile' | 'restoreFile';
  /** `afterRestore` throws a CheckpointRefusedError with this reason. */
  refuseAfterRestore?: string;
  /** The value of the `fake.tool` fingerprint entry. */
  tool?: string;
  /** Does not tap `build`. */
  noBuild?: boolean;
}

/** Everything the fake plugin saw, in order. */
interface Observed {
  /** Hook names, in the order their taps ran; transforms as `restoreFile(<name>):<path>`. */
  events: string[];
  /** Sources the build "compiled". */
  units: string[];
  /** `ctx.sources` as the fingerprint tap saw it. */
  sourcesInFingerprint: unknown;
  /** `manifest.data.fake` of the checkpoint seen by `validateCheckpoint`. */
  dataSeen: unknown;
  /** The report and context `done` received. */
  done?: { report: BuildReport; mode: string; changes: unknown };
  failed?: Error;
  /** The tap-only hook view the plugin received. */
  api?: PluginApi;
  restoreInfo: Array<{ path: string; absolutePath: string; text: string }>;
}

/**
 * A plugin that builds `out/<name>.up` (upper-cased) from each `src/<name>.txt`
 * when the source is newer than its output, links them into `out/all.txt`
 * with `sh`, and writes `out/where.txt` naming its absolute build directory
 * (captured through a transform that replaces it by a placeholder).
 */
function fakePlugin(options: FakeOptions = {}): { plugin: Plugin; seen: Observed } {
  const seen: Observed = { events: [], units: [], sourcesInFingerprint: 'not called', dataSeen: undefined, restoreInfo: [] };
  const log = (event: string): void => {
    seen.events.push(event);
  };
  const boom = (hook: NonNullable<FakeOptions['throwIn']>): void => {
    if (options.throwIn === hook) throw new Error('boom');
  };
  const plugin: Plugin = {
    name: NAME,
    apply(api) {
      seen.api = api;
      const { hooks } = api;
      hooks.initialize.tap(NAME, () => log('initialize'));
      hooks.resolveConfig.tap(NAME, (draft) => {
        log('resolveConfig');
        // A default, as build-system plugins set theirs: the user's value wins.
        return { buildDir: 'out', ...draft };
      });
      hooks.configResolved.tap(NAME, () => log('configResolved'));
      hooks.fingerprint.tapPromise(NAME, async (fingerprint, ctx) => {
        log('fingerprint');
        seen.sourcesInFingerprint = ctx.sources;
        return { ...fingerprint, 'fake.tool': options.tool ?? 'fake 1.0' };
      });
      hooks.findCheckpoint.tapPromise(NAME, async () => {
        log('findCheckpoint');
        return undefined; // no opinion: the core's store lookup (Stage.Core) runs next
      });
      hooks.validateCheckpoint.tapPromise(NAME, async (manifest) => {
        log('validateCheckpoint');
        seen.dataSeen = manifest.data[NAME];
        return options.refuse === undefined ? undefined : { reason: options.refuse };
      });
      hooks.changes.tapPromise(NAME, async (changes) => {
        log('changes');
        if (!options.widen) return changes;
        return { ...changes, modified: [...new Set([...changes.modified, ...options.widen])].sort() };
      });
      hooks.beforeRestore.tapPromise(NAME, async () => log('beforeRestore'));
      hooks.restoreFile.for(RELOCATE).tapPromise(NAME, async (content, info) => {
        log(`restoreFile(${RELOCATE}):${info.path}`);
        boom('restoreFile');
        const text = content.toString('utf8').split(PLACEHOLDER).join(info.context.buildDir);
        seen.restoreInfo.push({ path: info.path, absolutePath: info.absolutePath, text });
        return Buffer.from(text); // new bytes: `content` may back other files
      });
      hooks.afterRestore.tapPromise(NAME, async () => {
        log('afterRestore');
        boom('afterRestore');
        if (options.refuseAfterRestore !== undefined) throw new CheckpointRefusedError(options.refuseAfterRestore);
      });
      hooks.configure.tapPromise(NAME, async () => {
        log('configure');
        return undefined; // nothing to configure
      });
      hooks.beforeBuild.tapPromise(NAME, async () => log('beforeBuild'));
      if (!options.noBuild) {
        hooks.build.tapPromise(NAME, async (ctx) => {
          log('build');
          boom('build');
          return build(ctx, seen);
        });
      }
      hooks.selectState.tapPromise(NAME, async (selection, ctx) => {
        log('selectState');
        boom('selectState');
        const files = [...selection.files];
        for (const name of await readdir(ctx.buildDir)) {
          files.push(name === 'where.txt' ? { path: name, transform: RELOCATE } : { path: name });
        }
        return { files };
      });
      hooks.captureFile.for(RELOCATE).tapPromise(NAME, async (content, info) => {
        log(`captureFile(${RELOCATE}):${info.path}`);
        boom('captureFile');
        return Buffer.from(content.toString('utf8').split(info.context.buildDir).join(PLACEHOLDER));
      });
      hooks.afterCapture.tapPromise(NAME, async (manifest) => {
        log('afterCapture');
        manifest.data[NAME] = { units: [...seen.units] };
      });
      hooks.done.tapPromise(NAME, async (report, ctx) => {
        log('done');
        seen.done = { report, mode: ctx.mode, changes: ctx.changes };
      });
      hooks.failed.tap(NAME, (error) => {
        log('failed');
        seen.failed = error;
      });
      hooks.shutdown.tapPromise(NAME, async () => log('shutdown'));
    },
  };
  return { plugin, seen };
}

async function mtimeNs(path: string): Promise<bigint | undefined> {
  return (await stat(path, { bigint: true }).catch(() => undefined))?.mtimeNs;
}

/** The fake build: compile what is out of date (by mtime, as make decides), then link with `sh`. */
async function build(ctx: BuildContext, seen: Observed) {
  await mkdir(ctx.buildDir, { recursive: true });
  const names = (await readdir(join(ctx.sourceDir, 'src'))).filter((n) => n.endsWith('.txt')).sort();
  for (const name of names) {
    const source = join(ctx.sourceDir, 'src', name);
    const output = join(ctx.buildDir, name.replace(/\.txt$/, '.up'));
    const outTime = await mtimeNs(output);
    if (outTime !== undefined && outTime >= (await mtimeNs(source))!) continue;
    await writeFile(output, (await readFile(source, 'utf8')).toUpperCase());
    seen.units.push(`src/${name}`);
  }
  if ((await mtimeNs(join(ctx.buildDir, 'where.txt'))) === undefined) {
    await writeFile(join(ctx.buildDir, 'where.txt'), `built in ${ctx.buildDir}\n`);
  }
  const link = await ctx.exec('sh', ['-c', 'cat *.up > all.txt'], { cwd: ctx.buildDir, echo: false });
  return { command: link.command };
}

const SOURCES: Record<string, string> = { 'src/a.txt': 'alpha\n', 'src/b.txt': 'beta\n', 'src/c.txt': 'gamma\n' };

/** A project directory (outside git: sources found by a walk) and a store beside it. */
async function project(): Promise<{ root: string; dir: string; store: string }> {
  const root = await tempDir('orchestrate-contract-');
  const dir = join(root, 'A', 'project');
  for (const [path, content] of Object.entries(SOURCES)) {
    await mkdir(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { root, dir, store: join(root, 'store') };
}

/** A fresh copy of the project's sources at another path (new mtimes, no build output), as a clone gives. */
async function freshCopy(root: string, label: string, from: string): Promise<string> {
  const dir = join(root, label, 'project');
  await cp(join(from, 'src'), join(dir, 'src'), { recursive: true });
  return dir;
}

/** Runs one command with a new orchestrator (as the CLI does per process) and a real LocalStore. */
async function run(
  dir: string,
  store: string,
  command: RunOptions['command'],
  options: FakeOptions = {},
  plugins: Plugin[] = [],
): Promise<{ report: BuildReport; seen: Observed; logs: LogRecord[] }> {
  const { plugin, seen } = fakePlugin(options);
  const logs: LogRecord[] = [];
  const orchestrator = new Orchestrator({
    draft: { name: 'contract' },
    plugins: [plugin, ...plugins],
    projectDir: dir,
    logger: createLogger((record) => logs.push(record)),
    env: { ...process.env, ORCHESTRATE_STORE: undefined },
    store: await LocalStore.open(store),
    stores: { store }, // the tree ledger lives beside the blobs, not in the user's cache
  });
  const report = await orchestrator.run({ command });
  return { report, seen, logs };
}

const SETUP = ['initialize', 'resolveConfig', 'configResolved', 'fingerprint'];
const BUILD = ['configure', 'beforeBuild', 'build'];
const CAPTURE = ['selectState', `captureFile(${RELOCATE}):where.txt`, 'afterCapture'];
const END = ['done', 'shutdown'];
const RESTORE = ['findCheckpoint', 'validateCheckpoint', 'changes', 'beforeRestore', `restoreFile(${RELOCATE}):where.txt`, 'afterRestore'];

describe('hook order', () => {
  it('prepare: setup, build, capture, end; no checkpoint is looked for', async () => {
    const { dir, store } = await project();
    const { report, seen } = await run(dir, store, 'prepare');
    expect(seen.events).toEqual([...SETUP, ...BUILD, ...CAPTURE, ...END]);
    expect(report).toMatchObject({ command: 'prepare', mode: 'full', reason: 'prepare always builds in full', restored: null });
    expect(seen.units).toEqual(['src/a.txt', 'src/b.txt', 'src/c.txt']);
    expect(await readFile(join(dir, 'out/all.txt'), 'utf8')).toBe('ALPHA\nBETA\nGAMMA\n');
  });

  it('build without a checkpoint: findCheckpoint, then no restore hook; every source counts as added', async () => {
    const { dir, store } = await project();
    const { report, seen } = await run(dir, store, 'build');
    expect(seen.events).toEqual([...SETUP, 'findCheckpoint', ...BUILD, ...CAPTURE, ...END]);
    expect(report.mode).toBe('full');
    expect(report.reason).toBe(`no checkpoint of project 'contract' in ${store}`);
    expect(report.changes.added).toEqual(['src/a.txt', 'src/b.txt', 'src/c.txt']);
    expect(report.saved).toMatch(/^[0-9a-f]{64}$/);
  });

  it('build with a checkpoint at another path: the restore hooks, then build and capture; only the edited source is rebuilt', async () => {
    const { root, dir, store } = await project();
    const first = await run(dir, store, 'prepare');
    const b = await freshCopy(root, 'B', dir);
    await writeFile(join(b, 'src/b.txt'), 'bravo\n');
    const { report, seen } = await run(b, store, 'build');
    // where.txt was restored, not rebuilt, so it is not captured through its transform again.
    expect(seen.events).toEqual([...SETUP, ...RESTORE, ...BUILD, 'selectState', 'afterCapture', ...END]);
    expect(report).toMatchObject({ mode: 'incremental', reason: null, restored: first.report.saved });
    expect(report.changes.modified).toEqual(['src/b.txt']);
    expect(seen.units).toEqual(['src/b.txt']);
    expect(await readFile(join(b, 'out/all.txt'), 'utf8')).toBe('ALPHA\nBRAVO\nGAMMA\n');
  });

  it('restore: setup and the restore hooks, then done; nothing is built or saved', async () => {
    const { root, dir, store } = await project();
    await run(dir, store, 'prepare');
    const b = await freshCopy(root, 'B', dir);
    const { report, seen } = await run(b, store, 'restore');
    expect(seen.events).toEqual([...SETUP, ...RESTORE, ...END]);
    expect(report).toMatchObject({ command: 'restore', mode: 'incremental', saved: null });
    expect(seen.units).toEqual([]);
    expect(await readFile(join(b, 'out/all.txt'), 'utf8')).toBe('ALPHA\nBETA\nGAMMA\n');
  });

  it('taps run by Stage (lower first), whatever the order plugins were applied in', async () => {
    const { dir, store } = await project();
    const order: string[] = [];
    const staged = (name: string, stage: number): Plugin => ({
      name,
      apply: ({ hooks }) =>
        hooks.fingerprint.tap({ name, stage }, (fingerprint) => {
          order.push(name);
          return {
            ...fingerprint,
            [`${name}.seen`]: Object.keys(fingerprint)
              .filter((k) => k.endsWith('.seen'))
              .join(','),
          };
        }),
    });
    await run(dir, store, 'prepare', {}, [staged('late', Stage.Late), staged('early', Stage.Early), staged('normal', Stage.Normal)]);
    // `fake` taps at the default stage (Normal) and was applied first.
    expect(order).toEqual(['early', 'normal', 'late']);
  });
});

describe('what plugins see', () => {
  it('receive tap-only hooks: no call, promise or callAsync', async () => {
    const { dir, store } = await project();
    const { seen } = await run(dir, store, 'prepare');
    const hooks = seen.api!.hooks;
    expect(Object.keys(hooks.build).sort()).toEqual(['intercept', 'tap', 'tapAsync', 'tapPromise']);
    expect('promise' in hooks.build).toBe(false);
    expect('call' in hooks.initialize).toBe(false);
    expect(Object.isFrozen(hooks)).toBe(true);
  });

  it('fingerprint runs while the sources are scanned: ctx.sources is not set yet', async () => {
    const { dir, store } = await project();
    const { seen } = await run(dir, store, 'prepare');
    expect(seen.sourcesInFingerprint).toBeUndefined();
  });

  it('a fingerprint entry that differs makes the build full, the reason naming the entry', async () => {
    const { dir, store } = await project();
    await run(dir, store, 'prepare', { tool: 'fake 1.0' });
    const { report, seen } = await run(dir, store, 'build', { tool: 'fake 2.0' });
    expect(report.mode).toBe('full');
    expect(report.reason).toMatch(/^fingerprint differs from checkpoint [0-9a-f]{12}: .*fake\.tool/);
    expect(seen.events).not.toContain('validateCheckpoint');
  });

  it("afterCapture's manifest.data reaches the next run's hooks with the checkpoint", async () => {
    const { root, dir, store } = await project();
    await run(dir, store, 'prepare');
    const { seen } = await run(await freshCopy(root, 'B', dir), store, 'build');
    expect(seen.dataSeen).toEqual({ units: ['src/a.txt', 'src/b.txt', 'src/c.txt'] });
  });

  it('done receives the report run() returns, and the context of the run', async () => {
    const { root, dir, store } = await project();
    const first = await run(dir, store, 'prepare');
    expect(first.seen.done?.report).toBe(first.report);
    const b = await freshCopy(root, 'B', dir);
    await writeFile(join(b, 'src/c.txt'), 'golf\n');
    const { report, seen } = await run(b, store, 'build');
    expect(seen.done?.report).toBe(report);
    expect(seen.done?.mode).toBe('incremental');
    expect(seen.done?.changes).toEqual(report.changes);
    expect(report).toMatchObject({
      command: 'build',
      mode: 'incremental',
      reason: null,
      restored: first.report.saved,
      saved: expect.stringMatching(/^[0-9a-f]{64}$/),
      changes: { added: [], modified: ['src/c.txt'], removed: [], modeChanged: [], linkChanged: [] },
    });
    expect(report.saved).not.toBe(report.restored);
    expect(Object.keys(report.timings)).toEqual(
      expect.arrayContaining(['config', 'fingerprint', 'sources', 'find', 'restore', 'build', 'capture']),
    );
    expect(report.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe('refusals', () => {
  it('validateCheckpoint returning { reason } makes the build full, with the reason in the report; nothing is restored', async () => {
    const { root, dir, store } = await project();
    await run(dir, store, 'prepare');
    const b = await freshCopy(root, 'B', dir);
    const { report, seen, logs } = await run(b, store, 'build', { refuse: 'the compiler changed' });
    expect(report.mode).toBe('full');
    expect(report.restored).toBeNull();
    expect(report.reason).toMatch(/^checkpoint [0-9a-f]{12} refused: the compiler changed$/);
    expect(logs).toContainEqual({ level: 'info', scope: 'orchestrate', message: `full build: ${report.reason}` });
    expect(seen.events).toEqual([...SETUP, 'findCheckpoint', 'validateCheckpoint', ...BUILD, ...CAPTURE, ...END]);
    expect(report.changes.added).toEqual(['src/a.txt', 'src/b.txt', 'src/c.txt']);
    expect(seen.units).toEqual(['src/a.txt', 'src/b.txt', 'src/c.txt']);
  });

  it('a CheckpointRefusedError thrown while restoring removes what was written and builds in full, with the reason', async () => {
    const { root, dir, store } = await project();
    await run(dir, store, 'prepare');
    const b = await freshCopy(root, 'B', dir);
    const { report, seen } = await run(b, store, 'build', { refuseAfterRestore: '.ninja_deps names the old tree' });
    expect(report).toMatchObject({ mode: 'full', restored: null });
    expect(report.reason).toMatch(/^checkpoint [0-9a-f]{12} refused: \.ninja_deps names the old tree$/);
    // The restored outputs went again, so the build made every one of them.
    expect(seen.units).toEqual(['src/a.txt', 'src/b.txt', 'src/c.txt']);
    expect(await readFile(join(b, 'out/where.txt'), 'utf8')).toBe(`built in ${join(b, 'out')}\n`);
  });

  it('any other error of a restore hook is no failure either: a full build, the reason naming the plugin and the hook', async () => {
    const { root, dir, store } = await project();
    await run(dir, store, 'prepare');
    const { report } = await run(await freshCopy(root, 'B', dir), store, 'build', { throwIn: 'afterRestore' });
    expect(report.mode).toBe('full');
    expect(report.reason).toMatch(/^checkpoint [0-9a-f]{12} could not be restored: plugin 'fake' failed in hook 'afterRestore': boom$/);
  });
});

describe('changes', () => {
  it('a tap can widen the change set: the widened source gets a new time and is rebuilt, and the report lists it', async () => {
    const { root, dir, store } = await project();
    await run(dir, store, 'prepare');
    const b = await freshCopy(root, 'B', dir);
    await writeFile(join(b, 'src/c.txt'), 'golf\n');
    const { report, seen } = await run(b, store, 'build', { widen: ['src/a.txt'] });
    expect(report.mode).toBe('incremental');
    expect(report.changes.modified).toEqual(['src/a.txt', 'src/c.txt']);
    expect(seen.units).toEqual(['src/a.txt', 'src/c.txt']);
    expect(await readFile(join(b, 'out/all.txt'), 'utf8')).toBe('ALPHA\nBETA\nGOLF\n');
  });
});

describe('errors', () => {
  it('a throwing tap fails the run with a PluginError naming the plugin and the hook; failed gets it, shutdown still runs', async () => {
    const { dir, store } = await project();
    const error = await run(dir, store, 'prepare', { throwIn: 'build' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect(isOrchestrateError(error)).toBe(true);
    expect(error).toMatchObject({
      name: 'PluginError',
      code: 'ERR_PLUGIN',
      exitCode: 4,
      plugin: 'fake',
      hook: 'build',
      message: "plugin 'fake' failed in hook 'build': boom",
    });
    expect((error as Error).cause).toEqual(new Error('boom'));
  });

  it('failed receives the error, then shutdown runs; nothing is saved', async () => {
    const { plugin, seen } = fakePlugin({ throwIn: 'selectState' });
    const { dir, store } = await project();
    const orchestrator = new Orchestrator({
      draft: { name: 'contract' },
      plugins: [plugin],
      projectDir: dir,
      logger: createLogger(() => {}),
      env: process.env,
      store: await LocalStore.open(store),
      stores: { store },
    });
    await expect(orchestrator.run({ command: 'prepare' })).rejects.toMatchObject({ plugin: 'fake', hook: 'selectState' });
    expect(seen.events.slice(-3)).toEqual(['selectState', 'failed', 'shutdown']);
    expect(seen.failed).toMatchObject({ name: 'PluginError', hook: 'selectState' });
    expect((await (await LocalStore.open(store)).loadCheckpoints('contract')).length).toBe(0);
  });

  it('a throwing transform is attributed to the hook map and its key', async () => {
    const { dir, store } = await project();
    await expect(run(dir, store, 'prepare', { throwIn: 'captureFile' })).rejects.toMatchObject({
      plugin: 'fake',
      hook: `captureFile(${RELOCATE})`,
      message: `plugin 'fake' failed in hook 'captureFile(${RELOCATE})': boom`,
    });
  });

  it('a run that no plugin builds fails with ERR_NO_BUILD (exit code 2)', async () => {
    const { dir, store } = await project();
    await expect(run(dir, store, 'prepare', { noBuild: true })).rejects.toMatchObject({ code: 'ERR_NO_BUILD', exitCode: 2 });
  });
});

describe('transforms', () => {
  it('captureFile and restoreFile round-trip: the store holds the placeholder, the restored file names the new build directory', async () => {
    const { root, dir, store } = await project();
    const first = await run(dir, store, 'prepare');
    expect(await readFile(join(dir, 'out/where.txt'), 'utf8')).toBe(`built in ${join(dir, 'out')}\n`);

    const opened = await LocalStore.open(store);
    const [loaded] = await opened.loadCheckpoints('contract');
    const record = loaded && 'manifest' in loaded ? loaded.manifest.state['where.txt'] : undefined;
    expect(record).toMatchObject({ transform: RELOCATE });
    const stored = (await opened.readBlob(record!.blob!)).toString('utf8');
    expect(stored).toBe(`built in ${PLACEHOLDER}\n`);
    expect(stored).not.toContain(dir);

    const b = await freshCopy(root, 'B', dir);
    const { report, seen } = await run(b, store, 'restore');
    expect(report).toMatchObject({ mode: 'incremental', restored: first.report.saved });
    expect(seen.restoreInfo).toEqual([{ path: 'where.txt', absolutePath: join(b, 'out/where.txt'), text: `built in ${join(b, 'out')}\n` }]);
    expect(await readFile(join(b, 'out/where.txt'), 'utf8')).toBe(`built in ${join(b, 'out')}\n`);
  });

  it('a restore transform that throws falls back to a full build, naming the transform', async () => {
    const { root, dir, store } = await project();
    await run(dir, store, 'prepare');
    const b = await freshCopy(root, 'B', dir);
    const { report } = await run(b, store, 'build', { throwIn: 'restoreFile' });
    expect(report.mode).toBe('full');
    expect(report.reason).toContain(`plugin 'fake' failed in hook 'restoreFile(${RELOCATE})': boom`);
    expect(await readFile(join(b, 'out/where.txt'), 'utf8')).toBe(`built in ${join(b, 'out')}\n`);
  });
});
