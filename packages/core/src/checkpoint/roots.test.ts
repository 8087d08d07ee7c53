import { describe, expect, it } from 'vitest';
import { RootScanner, tryRootNamed } from './roots.js';

const ROOTS = { source: ['/w/proj'], build: ['/w/proj/build', '/real/w/proj/build'] };

/** Feeds `content` in chunks of `size` bytes. */
function scanInChunks(content: Buffer, size: number): ReturnType<RootScanner['finish']> {
  const scanner = new RootScanner(ROOTS);
  for (let at = 0; at < content.length; at += size) scanner.update(content.subarray(at, at + size), at);
  return scanner.finish();
}

describe('RootScanner', () => {
  it('finds a root in binary content, the build root before the source root', () => {
    expect(tryRootNamed(Buffer.from('\0\x7fELF/w/proj/src/a.c\0'), ROOTS)).toBe('source');
    expect(tryRootNamed(Buffer.from('\0/w/proj/src/a.c\0/w/proj/build\0'), ROOTS)).toBe('build');
    expect(tryRootNamed(Buffer.from('\0/real/w/proj/build/x.o'), ROOTS)).toBe('build');
  });

  it('does not take another directory that starts with a root for it', () => {
    expect(tryRootNamed(Buffer.from('\0/w/proj2/a.c\0/w/project\0/w/proj.old\0'), ROOTS)).toBeUndefined();
    expect(tryRootNamed(Buffer.from('./src/a.c'), ROOTS)).toBeUndefined();
  });

  it('finds a root that ends the content', () => {
    expect(tryRootNamed(Buffer.from('comp_dir=/w/proj'), ROOTS)).toBe('source');
  });

  it('finds a root across every chunk boundary, and never a near miss', () => {
    const hit = Buffer.concat([Buffer.alloc(37, 1), Buffer.from('/w/proj/src/a.c'), Buffer.alloc(29, 2)]);
    const miss = Buffer.concat([Buffer.alloc(37, 1), Buffer.from('/w/proj2/src/a.c'), Buffer.alloc(29, 2)]);
    for (let size = 1; size <= hit.length; size++) {
      expect(scanInChunks(hit, size), `chunks of ${size}`).toBe('source');
      expect(scanInChunks(miss, size), `chunks of ${size}`).toBeUndefined();
    }
    expect(scanInChunks(Buffer.from('xx/w/proj'), 3)).toBe('source');
    expect(scanInChunks(Buffer.from('xx/w/proj2'), 3)).toBeUndefined();
  });

  it('starts over when fed offset 0 again', () => {
    const scanner = new RootScanner(ROOTS);
    scanner.update(Buffer.from('/w/proj/a.c'), 0);
    scanner.update(Buffer.from('plain bytes'), 0);
    expect(scanner.seen).toBe(11);
    expect(scanner.finish()).toBeUndefined();
  });
});
