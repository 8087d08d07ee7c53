import type { Plugin, PluginOption } from '../plugin.js';
import type { UserConfig } from './schema.js';

/** A config as written in `orchestrate.config.{ts,mjs,js}`. */
export type OrchestrateConfig = Omit<UserConfig, 'plugins'> & {
  plugins?: PluginOption[] | (string | [string, Record<string, unknown>] | Plugin)[];
};

/** Types a config file's default export; returns it unchanged. */
export function defineConfig(config: OrchestrateConfig): OrchestrateConfig;
export function defineConfig(
  config: () => OrchestrateConfig | Promise<OrchestrateConfig>,
): () => OrchestrateConfig | Promise<OrchestrateConfig>;
export function defineConfig(config: unknown): unknown {
  return config;
}
