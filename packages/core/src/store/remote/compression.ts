/**
 * Compression of packs on their way to and from a remote: zstd through the
 * optional `zstd-napi` binding where it installed, gzip from `node:zlib`
 * otherwise. The local store keeps blobs uncompressed.
 */
import { createRequire } from 'node:module';
import type { Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

/** How a pack is compressed; recorded in its pack index entry and its media type. */
export type Compression = 'zstd' | 'gzip';

interface ZstdModule {
  CompressStream: new (parameters?: Record<string, unknown>) => Transform;
  DecompressStream: new () => Transform;
}

let zstd: ZstdModule | null | undefined;

/** The zstd binding, or null when it did not install (an optional dependency). */
function loadZstd(): ZstdModule | null {
  if (zstd !== undefined) return zstd;
  try {
    // Through createRequire, so the bundler leaves the native module to node.
    zstd = createRequire(import.meta.url)('zstd-napi') as ZstdModule;
  } catch {
    zstd = null;
  }
  return zstd;
}

/** The compression new packs use: zstd when the binding loads (and `ORCHESTRATE_PACK_COMPRESSION` does not say gzip). */
export function preferredCompression(env: Readonly<Record<string, string | undefined>> = process.env): Compression {
  if (env['ORCHESTRATE_PACK_COMPRESSION'] === 'gzip') return 'gzip';
  return loadZstd() === null ? 'gzip' : 'zstd';
}

/** True when packs compressed with `compression` can be read here. */
export function canDecompress(compression: Compression): boolean {
  return compression === 'gzip' || loadZstd() !== null;
}

/** A stream compressing with `compression`. */
export function compressor(compression: Compression): Transform {
  if (compression === 'gzip') return createGzip({ level: 6 });
  const z = loadZstd();
  if (z === null) throw new Error('zstd is not available (the optional zstd-napi binding did not install)');
  // Level 3 is zstd's default: fast, and already better than gzip -6.
  return new z.CompressStream({ compressionLevel: 3 });
}

/** A stream decompressing `compression`. */
export function decompressor(compression: Compression): Transform {
  if (compression === 'gzip') return createGunzip({ chunkSize: 1024 * 1024 });
  const z = loadZstd();
  if (z === null) throw new Error('zstd is not available (the optional zstd-napi binding did not install)');
  return new z.DecompressStream();
}
