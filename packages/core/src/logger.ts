/**
 * Scoped loggers. Messages go to a sink (stderr lines, or the progress view);
 * debug output is enabled per namespace with `ORCHESTRATE_DEBUG=store,restore`
 * (or `*`).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  level: LogLevel;
  scope: string;
  message: string;
}

export type LogSink = (record: LogRecord) => void;

/** A logger bound to one scope, printed as `[scope] message`. */
export interface Logger {
  readonly scope: string;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger for a sub-scope, e.g. `logger.child('restore')`. */
  child(scope: string): Logger;
}

function debugEnabled(scope: string, spec: string | undefined): boolean {
  if (!spec) return false;
  const names = spec.split(',').map((s) => s.trim());
  return names.includes('*') || names.some((n) => scope === n || scope.startsWith(`${n}:`) || scope.endsWith(`:${n}`));
}

/** `logger`, and each of its children, telling `onWarning` every warning too (a run's report lists them). */
export function withWarningsTo(logger: Logger, onWarning: (message: string, scope: string) => void): Logger {
  return {
    scope: logger.scope,
    debug: (message) => logger.debug(message),
    info: (message) => logger.info(message),
    warn: (message) => {
      onWarning(message, logger.scope);
      logger.warn(message);
    },
    error: (message) => logger.error(message),
    child: (sub) => withWarningsTo(logger.child(sub), onWarning),
  };
}

/** Creates a logger writing to `sink`; `verbose` enables every debug message. */
export function createLogger(sink: LogSink, options: { scope?: string; verbose?: boolean; debug?: string | undefined } = {}): Logger {
  const scope = options.scope ?? 'orchestrate';
  const make = (s: string): Logger => {
    const debugOn = options.verbose === true || debugEnabled(s, options.debug);
    return {
      scope: s,
      debug: (message) => {
        if (debugOn) sink({ level: 'debug', scope: s, message });
      },
      info: (message) => sink({ level: 'info', scope: s, message }),
      warn: (message) => sink({ level: 'warn', scope: s, message }),
      error: (message) => sink({ level: 'error', scope: s, message }),
      child: (sub) => make(`${s}:${sub}`),
    };
  };
  return make(scope);
}

/** Formats a record as one plain line. */
export function formatRecord(record: LogRecord): string {
  const prefix = record.level === 'warn' ? 'warning: ' : record.level === 'error' ? 'error: ' : '';
  return `[${record.scope}] ${prefix}${record.message}`;
}

/** A sink that writes plain lines to a stream (stderr by default). */
export function streamSink(stream: NodeJS.WritableStream = process.stderr): LogSink {
  return (record) => {
    stream.write(`${formatRecord(record)}\n`);
  };
}

/** A sink that drops everything. */
export const silentSink: LogSink = () => {};
