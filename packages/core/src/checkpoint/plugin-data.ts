/**
 * Typed plugin data in checkpoints. A plugin keeps what it learned at capture
 * in `manifest.data[<plugin>]` as `{ version, ...value }`; reading it back
 * checks the version and the plugin's schema, since a manifest is untrusted
 * input (another version of the plugin, another machine, a forger).
 */
import type { ZodType } from 'zod';
import type { CheckpointManifest } from './manifest.js';
import { CheckpointRefusedError } from './safety.js';

/** A plugin's typed slot in checkpoint manifests; see {@link checkpointData}. */
export interface CheckpointData<T> {
  /**
   * The plugin's data in `manifest`: `undefined` when the checkpoint has none;
   * throws a CheckpointRefusedError (the checkpoint is not used, the build goes
   * on in full) when it is of another version or fails the schema.
   */
  read(manifest: CheckpointManifest): T | undefined;
  /** As {@link read}, with `undefined` instead of a refusal (e.g. while capturing, to reuse what a checkpoint knew). */
  tryRead(manifest: CheckpointManifest): T | undefined;
  /** Stores `value` in `manifest` (in `afterCapture`). */
  write(manifest: CheckpointManifest, value: T): void;
}

/**
 * Declares plugin `plugin`'s data: bump `version` on every incompatible
 * change of `schema`; a checkpoint with another version is refused, naming both.
 */
export function checkpointData<T>(plugin: string, version: number, schema: ZodType<T>): CheckpointData<T> {
  // A manifest is read by several hooks of one run: parsed once.
  const parsed = new WeakMap<CheckpointManifest, { value: T } | { refusal: string }>();
  const parse = (manifest: CheckpointManifest): { value: T } | { refusal: string } | undefined => {
    const raw = manifest.data[plugin];
    if (raw === undefined) return undefined;
    const known = parsed.get(manifest);
    if (known) return known;
    let result: { value: T } | { refusal: string };
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      result = { refusal: `its ${plugin} plugin data is not an object` };
    } else {
      const { version: found, ...rest } = raw as Record<string, unknown>;
      if (found !== version) {
        result = {
          refusal: `it was captured by another version of the ${plugin} plugin (data version ${JSON.stringify(found ?? null)}, expected ${version})`,
        };
      } else {
        const checked = schema.safeParse(rest);
        const issue = checked.success ? undefined : checked.error.issues[0];
        result = checked.success
          ? { value: checked.data }
          : {
              refusal: `its ${plugin} plugin data is invalid${issue && issue.path.length > 0 ? ` at '${issue.path.join('.')}'` : ''}: ${issue?.message ?? 'invalid'}`,
            };
      }
    }
    parsed.set(manifest, result);
    return result;
  };
  return {
    read(manifest) {
      const result = parse(manifest);
      if (result === undefined) return undefined;
      if ('refusal' in result) throw new CheckpointRefusedError(result.refusal);
      return result.value;
    },
    tryRead(manifest) {
      const result = parse(manifest);
      return result !== undefined && 'value' in result ? result.value : undefined;
    },
    write(manifest, value) {
      manifest.data[plugin] = { version, ...(value as object) };
    },
  };
}
