/**
 * Running external tools. Output is streamed line by line to the logger, the
 * run is cancelled through the context's abort signal, and a non-zero exit
 * becomes a {@link BuildToolError} with the command line and the tail of its
 * output.
 */
import { spawnCapture } from './process.js';
import { BuildToolError, InterruptedError } from './errors.js';
import type { Logger } from './logger.js';

export interface ExecOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Do not throw on a non-zero exit; the result says how it ended. */
  reject?: boolean;
  /** Log each output line at this level (default `info`); `false` keeps output quiet. */
  echo?: 'info' | 'debug' | false;
}

export interface ExecResult {
  command: string;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as produced. */
  all: string;
}

const TAIL_LINES = 30;

/** Runs `file args…`; see {@link ExecOptions}. */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: ExecOptions & { logger: Logger; signal: AbortSignal },
): Promise<ExecResult> {
  const echo = options.echo ?? 'info';
  // Whole lines to the logger, however the output is chunked.
  let pending = '';
  const onOutput =
    echo === false
      ? undefined
      : (text: string): void => {
          const lines = (pending + text).split('\n');
          pending = lines.pop() ?? '';
          for (const line of lines) if (line.length > 0) options.logger[echo](line);
        };
  const result = await spawnCapture(file, args, {
    cwd: options.cwd,
    env: options.env === undefined ? process.env : options.env,
    signal: options.signal,
    interleaved: true,
    ...(onOutput ? { onOutput } : {}),
  });
  if (onOutput && pending.length > 0) options.logger[echo as 'info' | 'debug'](pending);
  // Ctrl-C signals the whole foreground process group: the tool may end of it (killed by SIGINT, or
  // exiting with an error as make does when its job was interrupted) before this process has handled its
  // own SIGINT. A failed tool therefore gives the signal handler a moment before the failure counts.
  if (result.failed && !options.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
  if (result.canceled || options.signal.aborted || result.signal === 'SIGINT') throw new InterruptedError('SIGINT');
  const out: ExecResult = {
    command: result.command,
    exitCode: result.exitCode,
    stdout: result.stdout,
    stderr: result.stderr,
    all: result.error ? [result.all, result.error.message].filter(Boolean).join('\n') : result.all,
  };
  if (result.failed && options.reject !== false) {
    const tail = out.all.split('\n').slice(-TAIL_LINES).join('\n');
    throw new BuildToolError(result.command, result.exitCode, tail);
  }
  return out;
}
