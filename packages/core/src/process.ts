/**
 * Child processes. Everything orchestrate starts (build tools, git, the time
 * helper, `--version` probes) goes through {@link spawnCapture}: stdout,
 * stderr and both interleaved, stdin fed from a string, cancellation on an
 * abort signal, no throw on a non-zero exit.
 *
 * A process whose output is streamed or interleaved (the build tools) runs
 * with execa. One that is only captured (git, the time helper, probes) runs
 * with node's `child_process` under the same contract: execa's set-up of
 * streams, listeners and signal handling costs ~9 ms of this process's time
 * per child, and every build starts two or three of them.
 *
 * execa is imported on first use and the CLI starts that import as it
 * starts ({@link preloadProcessRunner}), so loading its modules overlaps the
 * config search and the source scan instead of delaying the first command.
 */
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface SpawnOptions {
  cwd?: string;
  /** The whole environment (default: this process's). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Written to stdin, which is otherwise ignored. */
  input?: string | Buffer;
  /** Aborting kills the process (SIGTERM, then SIGKILL after 5 s). */
  signal?: AbortSignal;
  /** Called with each decoded chunk of stdout or stderr as it arrives. */
  onOutput?: (text: string) => void;
  /** Keep a trailing newline of stdout/stderr/all (default: stripped, like execa). */
  keepFinalNewline?: boolean;
  /**
   * Collect stdout and stderr interleaved as produced into `all` (always with
   * `onOutput`). Off by default: merging the streams costs ~9 ms per process.
   */
  interleaved?: boolean;
}

export interface SpawnResult {
  /** `file args…`, for messages. */
  command: string;
  /** Exit code; `undefined` when the process could not start or died by a signal. */
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as produced with `interleaved` or `onOutput`, else stdout then stderr. */
  all: string;
  /** Did not start, died by a signal, or exited non-zero. */
  failed: boolean;
  /** Ended by the abort signal. */
  canceled: boolean;
  /** Why it could not start (ENOENT, ...). */
  error: Error | undefined;
}

let execaModule: Promise<typeof import('execa')> | undefined;

/** Starts loading execa without waiting for it. */
export function preloadProcessRunner(): void {
  execaModule ??= import('execa');
  execaModule.catch(() => undefined);
}

/** How long a canceled process has after SIGTERM before SIGKILL. */
const FORCE_KILL_AFTER_MS = 5000;

/** `text` without one final newline (`\n` or `\r\n`), as execa strips it. */
function stripFinalNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** {@link spawnCapture} for a process whose output is only captured, with node's child_process. */
function spawnCaptured(file: string, args: readonly string[], options: SpawnOptions): Promise<SpawnResult> {
  const command = [file, ...args].join(' ');
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let startError: Error | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const child = spawn(file, [...args], {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: (options.env ?? process.env) as NodeJS.ProcessEnv,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const cancel = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), FORCE_KILL_AFTER_MS);
      killTimer.unref();
    };
    if (options.signal?.aborted) cancel();
    else options.signal?.addEventListener('abort', cancel, { once: true });
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      startError ??= error;
    });
    if (child.stdin) {
      // A child that exits without reading its input closes the pipe: not an error of ours.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
    child.on('close', (code, signal) => {
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', cancel);
      const text = (chunks: Buffer[]): string => {
        const all = Buffer.concat(chunks).toString('utf8');
        return options.keepFinalNewline === true ? all : stripFinalNewline(all);
      };
      const out = text(stdout);
      const err = text(stderr);
      const canceled = options.signal?.aborted === true;
      // A spawn failure (ENOENT, EACCES) still closes, with the negative errno as the code.
      const started = !(startError as NodeJS.ErrnoException | undefined)?.syscall?.startsWith('spawn');
      resolve({
        command,
        exitCode: started ? (code ?? undefined) : undefined,
        signal: signal ?? undefined,
        stdout: out,
        stderr: err,
        all: [out, err].filter(Boolean).join('\n'),
        failed: !started || code !== 0,
        canceled,
        error: started ? undefined : startError,
      });
    });
  });
}

/** Runs `file args…` to completion; never rejects. */
export async function spawnCapture(file: string, args: readonly string[], options: SpawnOptions = {}): Promise<SpawnResult> {
  if (options.interleaved !== true && options.onOutput === undefined) return spawnCaptured(file, args, options);
  execaModule ??= import('execa');
  const { execa } = await execaModule;
  const subprocess = execa(file, [...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: (options.env ?? process.env) as Record<string, string>,
    extendEnv: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    forceKillAfterDelay: 5000,
    reject: false,
    all: options.interleaved === true || options.onOutput !== undefined,
    stripFinalNewline: options.keepFinalNewline !== true,
    maxBuffer: 1024 * 1024 * 1024,
    windowsHide: true,
  });
  if (options.onOutput) {
    const onOutput = options.onOutput;
    const decoder = new StringDecoder('utf8');
    subprocess.all?.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      if (text !== '') onOutput(text);
    });
    subprocess.all?.on('end', () => {
      const text = decoder.end();
      if (text !== '') onOutput(text);
    });
  }
  const result = await subprocess;
  const signal = result.signal as NodeJS.Signals | undefined;
  const startFailed = result.failed && result.exitCode === undefined && signal === undefined && !result.isCanceled;
  return {
    command: [file, ...args].join(' '),
    exitCode: result.exitCode,
    signal,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    all: result.all === undefined ? [result.stdout, result.stderr].filter(Boolean).join('\n') : String(result.all),
    failed: result.failed,
    canceled: result.isCanceled,
    error: startFailed ? new Error(result.originalMessage || result.shortMessage) : undefined,
  };
}
