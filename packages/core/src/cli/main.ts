/**
 * The `orchestrate` command line. `runCli` returns the exit code instead of
 * exiting, so it can be tested in-process.
 */
import { Command, CommanderError, Option } from '@commander-js/extra-typings';
import { resolve } from 'node:path';
import { defaultStoreDir } from '../config/resolve-config.js';
import { tryLoadConfig } from '../config/load-config.js';
import { ExitCode, InterruptedError, isOrchestrateError } from '../errors.js';
import type { BuildReport } from '../hooks.js';
import { formatRecord, type LogRecord, type LogSink } from '../logger.js';
import { projectIdentity } from '../config/resolve-config.js';
import { createOrchestrator } from '../setup.js';
import { LocalStore } from '../store/local-store.js';
import { VERSION } from '../package-info.js';
import { initConfig } from './init.js';
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
  config?: string | undefined;
  json?: boolean | undefined;
  verbose?: boolean | undefined;
}

function reportJson(report: BuildReport): Record<string, unknown> {
  return {
    command: report.command,
    mode: report.mode,
    reason: report.reason,
    restored: report.restored,
    saved: report.saved,
    saveError: report.saveError,
    changes: report.changes,
    durationMs: report.durationMs,
    timings: report.timings,
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
    .addOption(new Option('-c, --config <file>', 'config file (default: searched from --cwd upwards)'))
    .addOption(new Option('--json', 'print one JSON object on stdout'))
    .addOption(new Option('-v, --verbose', 'print debug output').env('ORCHESTRATE_VERBOSE'));

  const globals = (): GlobalOptions => {
    const o = program.opts();
    json = o.json === true;
    return { cwd: resolve(o.cwd), store: o.store, config: o.config, json: o.json, verbose: o.verbose };
  };

  const runLifecycle = async (command: 'build' | 'prepare' | 'restore', noSave: boolean, wait: boolean): Promise<void> => {
    const opts = globals();
    const renderer = opts.json ? 'silent' : io.isTTY && !io.env['CI'] && io.env['TERM'] !== 'dumb' ? 'default' : 'simple';
    const report = await runWithProgress({
      title: `orchestrate ${command}`,
      renderer,
      sink: sinkFor(opts),
      verbose: opts.verbose === true,
      debug: io.env['ORCHESTRATE_DEBUG'],
      stderr: io.stderr,
      work: async (logger) => {
        const orchestrator = await createOrchestrator({
          cwd: opts.cwd,
          configFile: opts.config,
          logger,
          storeOverride: opts.store,
          env: io.env,
          listSourcesEarly: true,
        });
        return orchestrator.run({ command, noSave, wait, ...(io.signal ? { signal: io.signal } : {}) });
      },
    });
    if (opts.json) io.stdout(`${JSON.stringify(reportJson(report))}\n`);
    else {
      const how = report.mode === 'incremental' ? `incremental from ${report.restored?.slice(0, 12)}` : `full (${report.reason})`;
      const save = report.saved ? `saved ${report.saved.slice(0, 12)}; ` : report.saveError !== null ? 'nothing saved; ' : '';
      io.stderr(`${command}: ${how}; ${save}${report.durationMs} ms\n`);
    }
  };

  // Runs in one tree are serialized; a second one waits for the first unless told not to.
  const noWait = (): Option<'--no-wait', undefined, true, undefined, false> =>
    new Option('--no-wait', `fail at once (exit code ${ExitCode.Busy}) when another run holds the tree's lock, instead of waiting`).env(
      'ORCHESTRATE_NO_WAIT',
    );
  program
    .command('build')
    .description('restore the closest checkpoint, build incrementally, save a new checkpoint')
    .option('--no-save', 'do not save a checkpoint after the build')
    .addOption(noWait())
    .action(async (o) => runLifecycle('build', o.save === false, o.wait !== false));
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
      const file = await initConfig(opts.cwd, { force: o.force === true });
      if (opts.json) io.stdout(`${JSON.stringify({ config: file })}\n`);
      else io.stderr(`wrote ${file}\n`);
    });
  program
    .command('list')
    .description("list the project's checkpoints (all projects with --all)")
    .option('-a, --all', 'every project in the store')
    .action(async (o) => {
      const opts = globals();
      const store = await LocalStore.open(await storeDir(opts, io));
      const project = o.all ? undefined : await currentProject(opts);
      const loaded = await store.loadCheckpoints(project);
      const rows = loaded.map((item) =>
        item.error !== undefined
          ? { file: item.file, error: item.error }
          : {
              id: item.ref.id,
              project: item.ref.project,
              createdAt: item.ref.createdAt,
              files: Object.values(item.manifest.state).filter((r) => r.blob).length,
              bytes: Object.values(item.manifest.state).reduce((n, r) => n + (r.size ?? 0), 0),
              fingerprint: item.manifest.fingerprint,
            },
      );
      if (opts.json) {
        io.stdout(`${JSON.stringify({ store: store.location, checkpoints: rows })}\n`);
        return;
      }
      if (rows.length === 0) io.stdout(`no checkpoints${project ? ` of '${project}'` : ''} in ${store.location}\n`);
      for (const row of rows) {
        if ('error' in row) io.stdout(`${row.file}  unreadable: ${row.error}\n`);
        else io.stdout(`${row.id.slice(0, 12)}  ${row.createdAt}  ${row.files} files  ${row.bytes} bytes  ${row.project}\n`);
      }
    });
  program
    .command('gc')
    .description("keep the newest N checkpoints of the project (of every project with --all), remove unreferenced blobs")
    .option('-k, --keep <n>', 'checkpoints to keep per project', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new CommanderError(ExitCode.Usage, 'orchestrate.invalidKeep', `--keep expects a whole number, got '${v}'`);
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
      if (opts.json) io.stdout(`${JSON.stringify(result)}\n`);
      else io.stdout(`removed ${result.checkpointsRemoved} checkpoints and ${result.blobsRemoved} blobs (${result.bytesFreed} bytes)\n`);
    });

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    exitCode = handleError(error, io, json);
  }
  return exitCode;
}

async function storeDir(opts: GlobalOptions, io: CliIo): Promise<string> {
  if (opts.store) return resolve(opts.store);
  const loaded = await tryLoadConfig(opts.cwd, opts.config);
  if (loaded?.config.store) return resolve(loaded.dir, loaded.config.store);
  return defaultStoreDir(io.env);
}

async function currentProject(opts: GlobalOptions): Promise<string | undefined> {
  const loaded = await tryLoadConfig(opts.cwd, opts.config);
  return loaded ? projectIdentity(loaded.dir, loaded.config.name) : undefined;
}

function handleError(error: unknown, io: CliIo, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.Ok;
    if (error.code === 'orchestrate.invalidKeep') io.stderr(`error: ${error.message}\n`);
    return ExitCode.Usage;
  }
  const code = isOrchestrateError(error) ? error.exitCode : 70;
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    io.stdout(
      `${JSON.stringify({ error: { code: isOrchestrateError(error) ? error.code : 'ERR_INTERNAL', message, exitCode: code } })}\n`,
    );
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
