/**
 * Progress: a listr2 task list in a terminal, plain lines elsewhere (CI,
 * `TERM=dumb`, pipes), nothing but warnings with `--json`. orchestrate owns
 * Ctrl-C, not listr2.
 */
import { createLogger, formatRecord, type LogRecord, type LogSink, type Logger } from '../logger.js';

export interface ProgressOptions<T> {
  title: string;
  renderer: 'default' | 'simple' | 'silent';
  sink: LogSink;
  verbose: boolean;
  debug: string | undefined;
  stderr: (text: string) => void;
  work: (logger: Logger) => Promise<T>;
}

/** Runs `work` with a logger feeding the progress view. */
export async function runWithProgress<T>(options: ProgressOptions<T>): Promise<T> {
  if (options.renderer !== 'default') {
    return options.work(createLogger(options.sink, { verbose: options.verbose, debug: options.debug }));
  }
  // listr2 is loaded only for a terminal: plain runs start faster without it.
  const { Listr } = await import('listr2');
  let result: T | undefined;
  const list = new Listr(
    [
      {
        title: options.title,
        task: async (_ctx, task) => {
          const sink = (record: LogRecord): void => {
            if (record.level === 'warn' || record.level === 'error') options.sink(record);
            else if (record.level === 'info' || options.verbose) task.output = formatRecord(record);
          };
          result = await options.work(createLogger(sink, { verbose: options.verbose, debug: options.debug }));
        },
        rendererOptions: { outputBar: 5, persistentOutput: false },
      },
    ],
    { renderer: 'default', exitOnError: true, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
  );
  await list.run();
  return result as T;
}
