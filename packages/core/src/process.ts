/**
 * Child processes, run with execa. Everything orchestrate starts (build
 * tools, git, the time helper, `--version` probes) goes through one runner,
 * {@link runProcess}: stdout, stderr and both interleaved, stdin fed from a
 * string, cancellation on an abort signal, no throw on a non-zero exit.
 * Plugins import it from `@orchestrate/core`; a hook's `ctx.exec` is the same
 * runner with the build's environment, output streamed to the logger and a
 * failure thrown as a `BuildToolError` (see `context.ts`).
 *
 * execa is imported on first use and the CLI starts that import as it
 * starts ({@link preloadProcessRunner}), so loading its modules overlaps the
 * config search and the source scan instead of delaying the first command.
 */
import { StringDecoder } from 'node:string_decoder';

export interface RunProcessOptions {
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
  /**
   * The most output kept per stream, in bytes; past it the process is ended
   * and the result is `failed`.
   * @default 1 GiB (a large repository's git listing)
   */
  maxBuffer?: number;
}

export interface RunProcessResult {
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

/** execa's output as text: a string, or bytes with `encoding: 'buffer'`. */
function text(output: unknown): string {
  if (output instanceof Uint8Array) return Buffer.from(output.buffer, output.byteOffset, output.byteLength).toString('utf8');
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a string here: the options above ask for text or bytes only
  return output === undefined || output === null ? '' : String(output);
}

/** Runs `file args…` to completion; never rejects: the result says how it ended. */
export async function runProcess(file: string, args: readonly string[], options: RunProcessOptions = {}): Promise<RunProcessResult> {
  execaModule ??= import('execa');
  const { execa } = await execaModule;
  const streamed = options.interleaved === true || options.onOutput !== undefined;
  const subprocess = execa(file, [...args], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: (options.env ?? process.env) as Record<string, string>,
    extendEnv: false,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    ...(options.signal === undefined ? {} : { cancelSignal: options.signal }),
    forceKillAfterDelay: 5000,
    reject: false,
    all: streamed,
    // Captured output is kept as bytes and decoded once: execa's text decoding runs a transform per chunk.
    ...(streamed ? {} : { encoding: 'buffer' as const }),
    stripFinalNewline: options.keepFinalNewline !== true,
    maxBuffer: options.maxBuffer ?? 1024 * 1024 * 1024,
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
  const signal = result.signal;
  const startFailed = result.failed && result.exitCode === undefined && signal === undefined && !result.isCanceled;
  return {
    command: [file, ...args].join(' '),
    exitCode: result.exitCode,
    signal,
    stdout: text(result.stdout),
    stderr: text(result.stderr),
    all: result.all === undefined ? [text(result.stdout), text(result.stderr)].filter(Boolean).join('\n') : text(result.all),
    failed: result.failed,
    canceled: result.isCanceled,
    error: startFailed ? new Error(result.originalMessage || result.shortMessage) : undefined,
  };
}
