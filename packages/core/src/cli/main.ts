/**
 * The `orchestrate` command line. `runCli` returns the exit code instead of
 * exiting, so it can be tested in-process.
 */
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { writeFile } from 'node:fs/promises';
import { delimiter, resolve } from 'node:path';
import { isNixBuild } from '../cache-home.js';
import { defaultStoreDir } from '../config/resolve-config.js';
import { tryLoadConfig } from '../config/load-config.js';
import { ExitCode, InterruptedError, isOrchestrateError, StoreError } from '../errors.js';
import { compareFingerprints } from '../checkpoint/fingerprint.js';
import { RemoteError } from '../store/remote/remote-store.js';
import type { BuildReport } from '../hooks.js';
import { createLogger, formatRecord, type Logger, type LogRecord, type LogSink } from '../logger.js';
import type { StoreOverrides } from '../config/schema.js';
import { projectIdentity } from '../config/resolve-config.js';
import { createOrchestrator } from '../setup.js';
import { LocalStore } from '../store/local-store.js';
import { openStore } from '../store/open-store.js';
import { VERSION } from '../package-info.js';
import { initConfig } from './init.js';
import { verifyProject } from '../verify/verify.js';
import { explainProject, type ExplainResult } from '../explain/explain.js';
import { formatExplanation } from './explain-text.js';
import { runWithProgress } from './progress.js';

/** Where the CLI writes; replaceable in tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  isTTY: boolean;
  /** Aborted on SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

interface GlobalOptions {
  cwd: string;
  store?: string | undefined;
  name?: string | undefined;
  times?: string | undefined;
  storeFrom?: string[] | undefined;
  storeFromInPlace?: boolean | undefined;
  /** `--remote URL`; `true` for a bare `--remote` (`list --remote`: the configured remote). */
  remote?: string | true | undefined;
  remoteMode?: string | undefined;
  scope?: string | undefined;
  maxSize?: string | undefined;
  config?: string | undefined;
  json?: boolean | undefined;
  report?: string | undefined;
  verbose?: boolean | undefined;
}

/**
 * Version of the `--json` output's shape, on every command's object (errors
 * too): bumped when a key is removed or changes its meaning; new keys may
 * appear without a bump.
 */
export const JSON_SCHEMA_VERSION = 1;

/** One line of JSON for machines, with {@link JSON_SCHEMA_VERSION} first. */
function jsonLine(value: Record<string, unknown>): string {
  return `${JSON.stringify({ schemaVersion: JSON_SCHEMA_VERSION, ...value })}\n`;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const megabytes = (bytes: number): string => (bytes < 100_000 ? `${(bytes / 1000).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

/**
 * What a build saved, in one line: `restored 12.3 MB in 412 files from
 * 1a2b3c4d5e6f; rebuilt 1 of 8 units; 0.41 s, saved ~9.6 s against the full build`.
 */
export function savingsLine(report: BuildReport): string {
  const parts: string[] = [];
  if (report.restored !== null) {
    parts.push(`restored ${megabytes(report.restoredBytes)} in ${report.restoredFiles} files from ${report.restored.slice(0, 12)}`);
  } else parts.push('full build');
  if (report.unitsRebuilt !== null) {
    parts.push(`rebuilt ${report.unitsRebuilt}${report.unitsTotal === null ? '' : ` of ${report.unitsTotal}`} units`);
  }
  let time = seconds(report.durationMs);
  if (report.timeSavedMs !== null && report.timeSavedMs >= 0) time += `, saved ~${seconds(report.timeSavedMs)} against the full build`;
  else if (report.timeSavedMs !== null)
    time += `, ${seconds(-report.timeSavedMs)} more than the full build (${seconds(report.fullBuildMs ?? 0)})`;
  parts.push(time);
  return parts.join('; ');
}

function reportJson(report: BuildReport): Record<string, unknown> {
  return {
    command: report.command,
    mode: report.mode,
    leftOut: report.leftOut,
    warnings: report.warnings,
    reason: report.reason,
    restored: report.restored,
    restoredFrom: report.restoredFrom,
    bytesDown: report.bytesDown,
    bytesUp: report.bytesUp,
    remoteError: report.remoteError,
    saved: report.saved,
    saveError: report.saveError,
    changes: report.changes,
    durationMs: report.durationMs,
    timings: report.timings,
    restoredFiles: report.restoredFiles,
    restoredBytes: report.restoredBytes,
    unitsRebuilt: report.unitsRebuilt,
    unitsTotal: report.unitsTotal,
    fullBuildMs: report.fullBuildMs,
    timeSavedMs: report.timeSavedMs,
    // The CLI process's own peak resident set (not its children's), in KiB.
    peakRssKb: process.resourceUsage().maxRSS,
    // Time since the process started, when this report was made: minus durationMs, the start-up
    // (node, loading orchestrate, the config and the plugins).
    processMs: Math.round(performance.now()),
  };
}

/** Runs the CLI with `argv` (without the node and script paths) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  let json = false;
  const sinkFor = (opts: GlobalOptions): LogSink => {
    return (record: LogRecord) => {
      // --json keeps stderr quiet for machines; --json --verbose still logs everything there (the report stays on stdout).
      if (opts.json && !opts.verbose && record.level === 'info') return;
      io.stderr(`${formatRecord(record)}\n`);
    };
  };
  const program = new Command()
    .name('orchestrate')
    .description('Checkpoint builds for make, CMake and Cargo: restore the last build, rebuild only what changed.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .addOption(new Option('-C, --cwd <dir>', 'project directory').default(process.cwd()).env('ORCHESTRATE_CWD'))
    .addOption(new Option('--store <dir>', 'checkpoint store directory').env('ORCHESTRATE_STORE'))
    .addOption(
      new Option('--name <project>', "the project's name, which identifies its checkpoints (over the config's name)").env(
        'ORCHESTRATE_NAME',
      ),
    )
    .addOption(
      new Option(
        '--times <mode>',
        "recorded times: 'exact' ns values, or 'flat' for reproducible checkpoints (default: flat in a Nix build, else exact)",
      )
        .choices(['exact', 'flat'] as const)
        .env('ORCHESTRATE_TIMES'),
    )
    .addOption(
      new Option(
        '--store-from <dir>',
        'a read-only store searched below the store (repeatable; else ORCHESTRATE_STORE_FROM, a path list)',
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(new Option('--store-from-in-place', 'leave what --store-from serves in place instead of copying it into the store'))
    .addOption(
      new Option(
        '--max-size <size>',
        'bound the store (bytes, or 500MB, 2GiB): least recently used checkpoints go first after each save',
      ).env('ORCHESTRATE_MAX_SIZE'),
    )
    .addOption(
      new Option(
        '--remote [url]',
        'a shared remote store: oci://host/repository or http(s)://host/prefix (else ORCHESTRATE_REMOTE, the config); bare, with list: list the remote',
      ),
    )
    .addOption(
      new Option('--remote-mode <mode>', "'read' (the default: never write the remote) or 'read-write' (push every checkpoint saved)")
        .choices(['read', 'read-write'] as const)
        .env('ORCHESTRATE_REMOTE_MODE'),
    )
    .addOption(
      new Option('--scope <name>', "this build's trust scope on the remote (default: from the CI's variables)").env('ORCHESTRATE_SCOPE'),
    )
    .addOption(new Option('-c, --config <file>', 'config file (default: searched from --cwd upwards)'))
    .addOption(new Option('--json', 'print one JSON object on stdout'))
    .addOption(
      new Option(
        '--report <file>',
        "also write build, prepare and restore's JSON report (as --json prints it) to <file>, logging as usual",
      ).env('ORCHESTRATE_REPORT'),
    )
    .addOption(new Option('-v, --verbose', 'print debug output').env('ORCHESTRATE_VERBOSE'));

  const globals = (): GlobalOptions => {
    const o = program.opts();
    json = o.json === true;
    return {
      cwd: resolve(o.cwd),
      store: o.store,
      storeFrom: o.storeFrom,
      storeFromInPlace: o.storeFromInPlace,
      remote: o.remote,
      remoteMode: o.remoteMode,
      scope: o.scope,
      maxSize: o.maxSize,
      name: o.name,
      times: o.times,
      config: o.config,
      json: o.json,
      report: o.report,
      verbose: o.verbose,
    };
  };

  /** Runs `work` under the progress view: listr2 in a terminal, plain lines in CI, dumb terminals and Nix builders, silent with --json. */
  const withProgress = <T>(opts: GlobalOptions, title: string, work: (logger: Logger) => Promise<T>): Promise<T> => {
    // A Nix builder's output is a pseudo-terminal that goes to a log: plain lines there too.
    const interactive = io.isTTY && !io.env['CI'] && io.env['TERM'] !== 'dumb' && !isNixBuild(io.env);
    return runWithProgress({
      title,
      renderer: opts.json ? 'silent' : interactive ? 'default' : 'simple',
      sink: sinkFor(opts),
      verbose: opts.verbose === true,
      debug: io.env['ORCHESTRATE_DEBUG'],
      stderr: io.stderr,
      work,
    });
  };

  /** The orchestrator of the project in --cwd, with the command line's stores, name and times. */
  const orchestratorFor = (opts: GlobalOptions, logger: Logger, extra: { listSourcesEarly?: boolean } = {}) =>
    createOrchestrator({
      cwd: opts.cwd,
      configFile: opts.config,
      logger,
      stores: storeOverrides(opts),
      nameOverride: opts.name,
      timesOverride: opts.times,
      env: io.env,
      ...extra,
    });

  const runLifecycle = async (command: 'build' | 'prepare' | 'restore', noSave: boolean, wait: boolean): Promise<void> => {
    const opts = globals();
    const report = await withProgress(opts, `orchestrate ${command}`, async (logger) => {
      const orchestrator = await orchestratorFor(opts, logger, { listSourcesEarly: true });
      return orchestrator.run({ command, noSave, wait, ...(io.signal ? { signal: io.signal } : {}) });
    });
    // For scripts that show the tool's output and read the result (a Nix builder).
    if (opts.report !== undefined) await writeFile(resolve(opts.report), jsonLine(reportJson(report)));
    if (opts.json) io.stdout(jsonLine(reportJson(report)));
    else {
      const how = report.mode === 'full' ? `full (${report.reason})` : `${report.mode} from ${report.restored?.slice(0, 12)}`;
      const save = report.saved ? `saved ${report.saved.slice(0, 12)}; ` : report.saveError !== null ? 'nothing saved; ' : '';
      io.stderr(`${command}: ${how}; ${save}${report.durationMs} ms\n`);
      if (command !== 'restore') io.stderr(`${savingsLine(report)}\n`);
    }
  };

  // Runs in one tree are serialized; a second one waits for the first unless told not to.
  const noWait = (): Option<'--no-wait', undefined, true, undefined, false> =>
    new Option('--no-wait', `fail at once (exit code ${ExitCode.Busy}) when another run holds the tree's lock, instead of waiting`).env(
      'ORCHESTRATE_NO_WAIT',
    );
  /** `explain`, and `build --dry-run`: restores into a scratch copy and asks the build tool; never writes the tree or the store. */
  const runExplain = async (command: 'explain' | 'build --dry-run', keepScratch: boolean): Promise<void> => {
    const opts = globals();
    const result: ExplainResult = await withProgress(opts, `orchestrate ${command}`, (logger) =>
      explainProject({
        cwd: opts.cwd,
        configFile: opts.config,
        stores: storeOverrides(opts),
        nameOverride: opts.name,
        env: io.env,
        logger,
        signal: io.signal,
        keepScratch,
      }),
    );
    if (opts.json) io.stdout(jsonLine({ command, ...result }));
    else io.stdout(formatExplanation(result));
  };
  program
    .command('build')
    .description('restore the closest checkpoint, build incrementally, save a new checkpoint')
    .option('--no-save', 'do not save a checkpoint after the build')
    .option('--dry-run', "restore nothing and build nothing: say what the build would do, as 'explain' does")
    .addOption(noWait())
    .action(async (o) =>
      o.dryRun === true ? runExplain('build --dry-run', false) : runLifecycle('build', o.save === false, o.wait !== false),
    );
  program
    .command('explain')
    .description(
      'say which checkpoint a build would restore and why, what changed, and what the build tool would rebuild with its reasons (asked in a scratch copy; writes neither the tree nor the store)',
    )
    .option('--keep-scratch', 'keep the scratch directory for inspection')
    .action(async (o) => runExplain('explain', o.keepScratch === true));
  program
    .command('prepare')
    .description('build in full and save a checkpoint')
    .addOption(noWait())
    .action(async (o) => runLifecycle('prepare', false, o.wait !== false));
  program
    .command('restore')
    .description('restore the closest checkpoint without building')
    .addOption(noWait())
    .action(async (o) => runLifecycle('restore', true, o.wait !== false));
  program
    .command('init')
    .description('write a config for the build system of the project directory')
    .option('-f, --force', 'overwrite an existing config')
    .action(async (o) => {
      const opts = globals();
      const { file, detected } = await initConfig(opts.cwd, { force: o.force === true });
      if (opts.json) io.stdout(jsonLine({ config: file, buildSystem: detected.system, note: detected.note ?? null }));
      else io.stderr(`wrote ${file} (${detected.system})${detected.note ? `\n${detected.note}` : ''}\n`);
    });
  program
    .command('list')
    .description("list the project's checkpoints (all projects with --all)")
    .option('-a, --all', 'every project in the store')
    .action(async (o) => {
      const opts = globals();
      if (opts.remote !== undefined) {
        await listRemote(opts);
        return;
      }
      const store = await openStore(await storeLayers(opts, io));
      const project = o.all ? undefined : await currentProject(opts);
      const loaded = await store.loadCheckpoints(project);
      const rows = loaded.map((item) =>
        item.error !== undefined
          ? { file: item.file, error: item.error }
          : {
              id: item.ref.id,
              project: item.ref.project,
              createdAt: item.ref.createdAt,
              ...(item.ref.origin === undefined ? {} : { origin: item.ref.origin }),
              files: Object.values(item.manifest.state).filter((r) => r.blob).length,
              bytes: Object.values(item.manifest.state).reduce((n, r) => n + (r.size ?? 0), 0),
              fingerprint: item.manifest.fingerprint,
            },
      );
      if (opts.json) {
        io.stdout(jsonLine({ store: store.location, checkpoints: rows }));
        return;
      }
      if (rows.length === 0) io.stdout(`no checkpoints${project ? ` of '${project}'` : ''} in ${store.location}\n`);
      for (const row of rows) {
        if ('error' in row) io.stdout(`${row.file}  unreadable: ${row.error}\n`);
        else io.stdout(`${row.id.slice(0, 12)}  ${row.createdAt}  ${row.files} files  ${row.bytes} bytes  ${row.project}\n`);
      }
    });
  /** The remote, the store and the fingerprint, as a build of the project in --cwd would have them. */
  const sharing = async (opts: GlobalOptions) => {
    const logger = createLogger(sinkFor(opts), { verbose: opts.verbose === true, debug: io.env['ORCHESTRATE_DEBUG'] });
    const orchestrator = await orchestratorFor(opts, logger);
    return orchestrator.sharing(io.signal);
  };

  /** `list --remote`: the remote's checkpoints of this project and fingerprint in the scopes a build reads. */
  const listRemote = async (opts: GlobalOptions): Promise<void> => {
    const { config, remote, fingerprint } = await sharing(opts);
    const found = await remote.remote.findCheckpoints({ project: config.project, fingerprint, scopes: remote.scopes });
    const rows = found.map((info) => ({
      id: info.id,
      project: info.project,
      scope: info.scope,
      createdAt: info.createdAt,
      location: info.location,
    }));
    if (opts.json) {
      io.stdout(jsonLine({ remote: remote.describe(), scopes: remote.scopes, checkpoints: rows }));
      return;
    }
    if (rows.length === 0)
      io.stdout(`no checkpoints of '${config.project}' in scopes ${remote.scopes.join(', ')} of ${remote.describe()}\n`);
    for (const row of rows) io.stdout(`${row.id.slice(0, 12)}  ${row.createdAt}  ${row.scope}  ${row.location}\n`);
  };

  program
    .command('push')
    .description(
      "push a checkpoint of the project (by id or id prefix; else the newest of this build's fingerprint) to the remote under this build's scope (needs --remote-mode read-write)",
    )
    .argument('[id]', 'checkpoint id or a prefix of it')
    .action(async (id) => {
      const opts = globals();
      const { config, store, remote, fingerprint } = await sharing(opts);
      const loaded = (await store.loadCheckpoints(config.project)).flatMap((item) => (item.error === undefined ? [item] : []));
      const matching =
        id === undefined
          ? loaded.filter((item) => compareFingerprints(item.manifest.fingerprint, fingerprint).length === 0)
          : loaded.filter((item) => item.ref.id.startsWith(id));
      const chosen = matching[0];
      if (chosen === undefined || (id !== undefined && matching.length > 1)) {
        const what =
          id === undefined ? `of this build's fingerprint` : matching.length > 1 ? `unambiguously named '${id}'` : `named '${id}'`;
        throw new StoreError(store.location, `no checkpoint of '${config.project}' ${what}`, { hint: "see 'orchestrate list'" });
      }
      const refusal = remote.pushRefusal;
      if (refusal !== undefined) throw new RemoteError(remote.describe(), `cannot push: ${refusal}`);
      if (chosen.manifest.scope !== undefined && chosen.manifest.scope !== remote.scope) {
        throw new RemoteError(
          remote.describe(),
          `cannot push checkpoint ${chosen.ref.id.slice(0, 12)}: it was written by scope '${chosen.manifest.scope}', and this build writes only '${remote.scope}'`,
        );
      }
      const pushed = await remote.remote.pushCheckpoint(
        chosen.manifest,
        store,
        remote.scope as string,
        io.signal ? { signal: io.signal } : {},
      );
      if (opts.json) io.stdout(jsonLine({ command: 'push', remote: remote.describe(), scope: remote.scope, ...pushed }));
      else
        io.stderr(
          `pushed ${pushed.id.slice(0, 12)} to ${remote.describe()} as '${pushed.location}': ${pushed.packsUp} of ${pushed.packsTotal} packs, ${pushed.bytesUp} bytes\n`,
        );
    });
  program
    .command('pull')
    .description(
      "fetch a checkpoint (by id or id prefix; else the newest) of this build's fingerprint from the remote's readable scopes into the store",
    )
    .argument('[id]', 'checkpoint id or a prefix of it')
    .action(async (id) => {
      const opts = globals();
      const { config, store, remote, fingerprint } = await sharing(opts);
      const found = await remote.remote.findCheckpoints({ project: config.project, fingerprint, scopes: remote.scopes });
      const matching = id === undefined ? found : found.filter((info) => info.id.startsWith(id));
      const chosen = matching[0];
      if (chosen === undefined || (id !== undefined && new Set(matching.map((info) => info.id)).size > 1)) {
        const what = id === undefined ? '' : ` ${matching.length > 1 ? 'unambiguously ' : ''}named '${id}'`;
        throw new RemoteError(
          remote.describe(),
          `no checkpoint of '${config.project}'${what} with this build's fingerprint in scopes ${remote.scopes.map((s) => `'${s}'`).join(', ')}`,
        );
      }
      const fetched = await remote.remote.fetchCheckpoint(chosen, store, io.signal ? { signal: io.signal } : {});
      const result = {
        command: 'pull',
        remote: remote.describe(),
        id: fetched.ref.id,
        scope: chosen.scope,
        store: store.location,
        bytesDown: fetched.bytesDown,
        packsDown: fetched.packsDown,
        packsTotal: fetched.packsTotal,
        blobsWritten: fetched.blobsWritten,
      };
      if (opts.json) io.stdout(jsonLine(result));
      else
        io.stderr(
          `pulled ${fetched.ref.id.slice(0, 12)} (scope '${chosen.scope}') from ${remote.describe()} into ${store.location}: ${fetched.packsDown} of ${fetched.packsTotal} packs, ${fetched.bytesDown} bytes\n`,
        );
    });
  program
    .command('gc')
    .description('keep the newest N checkpoints of the project (of every project with --all), remove unreferenced blobs')
    .option('-k, --keep <n>', 'checkpoints to keep per project', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw new CommanderError(ExitCode.Usage, 'orchestrate.invalidKeep', `--keep expects a whole number, got '${v}'`);
      return n;
    })
    .option('-a, --all', 'every project in the store')
    .action(async (o) => {
      const opts = globals();
      const store = await LocalStore.open(await storeDir(opts, io));
      const project = o.all ? undefined : await currentProject(opts);
      const loaded = o.keep === undefined ? await tryLoadConfig(opts.cwd, opts.config) : undefined;
      const keep = o.keep ?? loaded?.config.keep ?? 5;
      const result = await store.gc({ keep, ...(project === undefined ? {} : { project }) });
      if (opts.json) io.stdout(jsonLine({ ...result }));
      else io.stdout(`removed ${result.checkpointsRemoved} checkpoints and ${result.blobsRemoved} blobs (${result.bytesFreed} bytes)\n`);
    });

  program
    .command('verify')
    .description(
      `build the current sources from the checkpoint and from clean in a scratch copy, compare the outputs byte for byte (exit code ${ExitCode.Differs} when they differ)`,
    )
    .option('--keep-scratch', 'keep the scratch directory for inspection')
    .action(async (o) => {
      const opts = globals();
      const result = await withProgress(opts, 'orchestrate verify', (logger) =>
        verifyProject({
          cwd: opts.cwd,
          configFile: opts.config,
          stores: storeOverrides(opts),
          nameOverride: opts.name,
          env: io.env,
          logger,
          signal: io.signal,
          keepScratch: o.keepScratch === true,
        }),
      );
      if (!result.identical) exitCode = ExitCode.Differs;
      if (opts.json) {
        const { identical, compared, differing, missing, restored, reason, durationMs } = result;
        io.stdout(jsonLine({ command: 'verify', identical, compared, differing, missing, restored, reason, durationMs }));
        return;
      }
      const from = result.restored === null ? `a full build (${result.reason})` : `checkpoint ${result.restored.slice(0, 12)}`;
      if (result.identical) {
        io.stdout(`identical: ${result.compared} outputs built from ${from} equal a clean build's byte for byte\n`);
        return;
      }
      io.stdout(
        `different: ${result.differing.length + result.missing.length} of ${result.compared + result.missing.length} outputs built from ${from} differ from a clean build's\n`,
      );
      for (const d of result.differing) {
        io.stdout(
          `  ${d.path}: differs at byte ${d.offset} (${d.size[0]} bytes from the checkpoint, ${d.size[1]} clean)${d.cause ? `: ${d.cause}` : ''}\n`,
        );
      }
      for (const m of result.missing)
        io.stdout(`  ${m.path}: only the ${m.missingFrom === 'clean' ? 'checkpoint' : 'clean'} build made it\n`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    exitCode = handleError(error, io, json);
  }
  return exitCode;
}

/** What the command line says of the stores and the remote, for the config's resolution. */
function storeOverrides(opts: GlobalOptions): StoreOverrides {
  return {
    store: opts.store,
    storeFrom: opts.storeFrom,
    storeFromInPlace: opts.storeFromInPlace,
    remote: typeof opts.remote === 'string' ? opts.remote : undefined,
    remoteMode: opts.remoteMode,
    scope: opts.scope,
    maxSize: opts.maxSize,
  };
}

async function storeDir(opts: GlobalOptions, io: CliIo): Promise<string> {
  if (opts.store) return resolve(opts.store);
  const loaded = await tryLoadConfig(opts.cwd, opts.config);
  if (loaded?.config.store) return resolve(loaded.dir, loaded.config.store);
  return defaultStoreDir(io.env);
}

/** The store and its read-only layers, as a run would open them (the command line, the environment, the config). */
async function storeLayers(opts: GlobalOptions, io: CliIo): Promise<{ store: string; storeFrom: string[]; storeFromInPlace: boolean }> {
  const loaded = await tryLoadConfig(opts.cwd, opts.config);
  const fromEnv = io.env['ORCHESTRATE_STORE_FROM']?.split(delimiter).filter(Boolean);
  const storeFrom =
    opts.storeFrom && opts.storeFrom.length > 0
      ? opts.storeFrom.map((dir) => resolve(dir))
      : fromEnv && fromEnv.length > 0
        ? fromEnv.map((dir) => resolve(dir))
        : (loaded?.config.storeFrom ?? []).map((dir) => resolve(loaded?.dir ?? opts.cwd, dir));
  return {
    store: await storeDir(opts, io),
    storeFrom,
    storeFromInPlace: opts.storeFromInPlace ?? loaded?.config.storeFromInPlace ?? false,
  };
}

async function currentProject(opts: GlobalOptions): Promise<string | undefined> {
  if (opts.name) return opts.name;
  const loaded = await tryLoadConfig(opts.cwd, opts.config);
  return loaded ? projectIdentity(loaded.dir, loaded.config.name) : undefined;
}

function handleError(error: unknown, io: CliIo, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help')
      return ExitCode.Ok;
    if (error.code === 'orchestrate.invalidKeep') io.stderr(`error: ${error.message}\n`);
    return ExitCode.Usage;
  }
  const code = isOrchestrateError(error) ? error.exitCode : 70;
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    io.stdout(jsonLine({ error: { code: isOrchestrateError(error) ? error.code : 'ERR_INTERNAL', message, exitCode: code } }));
  }
  if (error instanceof InterruptedError) {
    io.stderr('orchestrate: interrupted\n');
    return code;
  }
  io.stderr(`error: ${message}\n`);
  if (isOrchestrateError(error) && error.hint) io.stderr(`hint: ${error.hint}\n`);
  if (!isOrchestrateError(error) && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
  return code;
}
