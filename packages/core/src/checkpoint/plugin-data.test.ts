import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import type { CheckpointManifest } from './manifest.js';
import { checkpointData } from './plugin-data.js';
import { isCheckpointRefusal } from './safety.js';

const manifestWith = (data: Record<string, unknown>): CheckpointManifest => ({ data }) as unknown as CheckpointManifest;

const slot = checkpointData('demo', 2, z.object({ roots: z.object({ source: z.string() }), files: z.array(z.string()) }));

function refusalOf(work: () => unknown): string {
  try {
    work();
  } catch (error) {
    if (isCheckpointRefusal(error)) return error.reason;
    throw error;
  }
  throw new Error('no refusal');
}

describe('checkpointData', () => {
  it('writes the value with its version and reads it back typed', () => {
    const manifest = manifestWith({});
    slot.write(manifest, { roots: { source: '/src' }, files: ['a'] });
    expect(manifest.data['demo']).toEqual({ version: 2, roots: { source: '/src' }, files: ['a'] });
    expect(slot.read(manifest)).toEqual({ roots: { source: '/src' }, files: ['a'] });
  });

  it('reads nothing from a checkpoint without the plugin data', () => {
    expect(slot.read(manifestWith({}))).toBeUndefined();
    expect(slot.tryRead(manifestWith({}))).toBeUndefined();
  });

  it('refuses data of another version, naming both', () => {
    const manifest = manifestWith({ demo: { version: 1, roots: { source: '/src' }, files: [] } });
    expect(refusalOf(() => slot.read(manifest))).toBe('it was captured by another version of the demo plugin (data version 1, expected 2)');
    expect(slot.tryRead(manifest)).toBeUndefined();
  });

  it('refuses data that fails the schema, naming where', () => {
    const manifest = manifestWith({ demo: { version: 2, roots: { source: 7 }, files: [] } });
    expect(refusalOf(() => slot.read(manifest))).toMatch(/^its demo plugin data is invalid at 'roots\.source': /);
    expect(refusalOf(() => slot.read(manifestWith({ demo: 'text' })))).toBe('its demo plugin data is not an object');
  });
});
