/**
 * Running external tools. Output is streamed line by line to the logger, the
 * run is cancelled through the context's abort signal, and a non-zero exit
 * becomes a {@link BuildToolError} with the command line and the tail of its
 * output.
 */
import { execa } from 'execa';
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
  const subprocess = execa(file, args, {
    cwd: options.cwd,
    env: options.env ?? {},
    extendEnv: options.env === undefined,
    cancelSignal: options.signal,
    reject: false,
    all: true,
    stdin: 'ignore',
    buffer: true,
    stripFinalNewline: true,
  });
  if (echo !== false) {
    subprocess.all?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length > 0) options.logger[echo](line);
      }
    });
  }
  const result = await subprocess;
  if (result.isCanceled || options.signal.aborted) throw new InterruptedError('SIGINT');
  const out: ExecResult = {
    command: result.command,
    exitCode: result.exitCode,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    all: String(result.all ?? ''),
  };
  if (result.failed && options.reject !== false) {
    const tail = out.all.split('\n').slice(-TAIL_LINES).join('\n');
    throw new BuildToolError(result.command, result.exitCode, tail);
  }
  return out;
}
