/**
 * Child processes on `node:child_process`, for the CLI's hot path.
 *
 * The core used execa for every command; loading execa and its dependencies
 * (about 180 module files) cost ~220 ms of CPU on every CLI start, as much as
 * a whole incremental make build of a small project spends in make. What the
 * core needs is small: capture stdout, stderr and both interleaved, feed
 * stdin, cancel on an abort signal, and never throw for a non-zero exit.
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
}

export interface SpawnResult {
  /** `file args…`, for messages. */
  command: string;
  /** Exit code; `undefined` when the process could not start or died by a signal. */
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as produced. */
  all: string;
  /** Did not start, died by a signal, or exited non-zero. */
  failed: boolean;
  /** Ended by the abort signal. */
  canceled: boolean;
  /** Why it could not start (ENOENT, ...). */
  error: Error | undefined;
}

const strip = (text: string): string => (text.endsWith('\n') ? text.slice(0, text.endsWith('\r\n') ? -2 : -1) : text);

/** Runs `file args…` to completion; never rejects. */
export function spawnCapture(file: string, args: readonly string[], options: SpawnOptions = {}): Promise<SpawnResult> {
  const command = [file, ...args].join(' ');
  return new Promise((resolvePromise) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], {
        cwd: options.cwd,
        env: (options.env ?? process.env) as NodeJS.ProcessEnv,
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      resolvePromise({ command, exitCode: undefined, signal: undefined, stdout: '', stderr: '', all: '', failed: true, canceled: false, error: error as Error });
      return;
    }
    const out: string[] = [];
    const err: string[] = [];
    const all: string[] = [];
    const collect = (stream: NodeJS.ReadableStream, into: string[]): void => {
      const decoder = new StringDecoder('utf8');
      stream.on('data', (chunk: Buffer) => {
        const text = decoder.write(chunk);
        if (text === '') return;
        into.push(text);
        all.push(text);
        options.onOutput?.(text);
      });
      stream.on('end', () => {
        const text = decoder.end();
        if (text === '') return;
        into.push(text);
        all.push(text);
        options.onOutput?.(text);
      });
    };
    if (child.stdout) collect(child.stdout, out);
    if (child.stderr) collect(child.stderr, err);

    let canceled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      canceled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      killTimer.unref();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // EPIPE when the process exits early: its exit code tells
      child.stdin.end(options.input);
    }

    let startError: Error | undefined;
    child.on('error', (error) => {
      startError = error;
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      const finish = options.keepFinalNewline ? (s: string) => s : strip;
      resolvePromise({
        command,
        exitCode: startError ? undefined : (code ?? undefined),
        signal: signal ?? undefined,
        stdout: finish(out.join('')),
        stderr: finish(err.join('')),
        all: finish(all.join('')),
        failed: startError !== undefined || code !== 0,
        canceled,
        error: startError,
      });
    });
  });
}
