/**
 * Plugins: objects with a `name` and an `apply(orchestrator)` method, as in
 * webpack. First-party plugins are lower-case factories (`make({ … })`).
 */
import type { PluginHooks } from './hooks.js';
import type { Logger } from './logger.js';

/** What a plugin's `apply` receives: the tap-only hooks and a logger scoped to the plugin. */
export interface PluginApi {
  readonly hooks: PluginHooks;
  /** A logger printing `[<plugin name>] …`. */
  logger(name: string): Logger;
}

/** An orchestrate plugin. */
export interface Plugin {
  /** Unique name, used for every tap and in error messages. */
  readonly name: string;
  apply(orchestrator: PluginApi): void;
}

/** A plugin entry as a config accepts it: plugins, nested arrays and falsy entries (skipped). */
export type PluginOption = Plugin | false | null | undefined | readonly PluginOption[];

/** True when `value` has the shape of a plugin. */
export function isPlugin(value: unknown): value is Plugin {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Plugin).name === 'string' &&
    typeof (value as Plugin).apply === 'function'
  );
}
