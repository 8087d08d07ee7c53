/**
 * The store a run uses, from the resolved config: the local store, with the
 * read-only `storeFrom` layers below it when there are any.
 */
import type { ResolvedConfig } from '../config/schema.js';
import { LayeredStore } from './layered-store.js';
import { LocalStore } from './local-store.js';
import type { CheckpointStore } from './store.js';

/** Opens the config's store (read-only when it cannot be written; see {@link LocalStore.open}). */
export async function openStore(config: Pick<ResolvedConfig, 'store' | 'storeFrom' | 'storeFromInPlace'>): Promise<CheckpointStore> {
  const top = await LocalStore.open(config.store);
  if (config.storeFrom.length === 0) return top;
  const lower = config.storeFrom.filter((dir) => dir !== config.store).map((dir) => LocalStore.openReadOnly(dir));
  return new LayeredStore({ top, lower, inPlace: config.storeFromInPlace });
}
