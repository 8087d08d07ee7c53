import { link, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectCargoState, skipReason, transformFor } from './state.js';

describe('cargo state selection', () => {
  it('keeps freshness records and outputs, not what cargo recreates', () => {
    const keep = { incremental: true };
    expect(skipReason('.fingerprint/a-0123456789abcdef/lib-a', false, keep)).toBeUndefined();
    expect(skipReason('deps/liba-0123456789abcdef.rlib', false, keep)).toBeUndefined();
    expect(skipReason('deps/a-0123456789abcdef.d', false, keep)).toBe('rustc dep-info (*.d)');
    expect(skipReason('build/a-0123456789abcdef/output', false, keep)).toBeUndefined();
    expect(skipReason('build/a-0123456789abcdef/out/gen.d', false, keep)).toBeUndefined();
    expect(skipReason('build/a-0123456789abcdef/build_script_build-0123456789abcdef.d', false, keep)).toBe('rustc dep-info (*.d)');
    expect(skipReason('build/a-0123456789abcdef/build-script-build', false, keep)).toBe('build-script-build hard link');
    expect(skipReason('hello', false, keep)).toBe('uplifted artifacts');
    expect(skipReason('.cargo-lock', false, keep)).toBe('lock');
    expect(skipReason('examples', true, keep)).toBe('uplifted artifacts');
    expect(skipReason('incremental/a-1/s-x/dep-graph.bin', false, keep)).toBeUndefined();
    expect(skipReason('incremental', true, { incremental: false })).toBe('incremental/');
  });

  it('names the relocation transforms', () => {
    expect(transformFor('build/a-0123456789abcdef/output')).toBe('cargo-build-output');
    expect(transformFor('build/a-0123456789abcdef/root-output')).toBe('cargo-build-output');
    expect(transformFor('.fingerprint/a-0123456789abcdef/dep-lib-a')).toBe('cargo-dep-info');
    expect(transformFor('build/a-0123456789abcdef/out/output')).toBeUndefined();
  });

  it('walks the profile directories and counts hard links once', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cargo-state-'));
    await mkdir(join(root, 'debug/deps'), { recursive: true });
    await mkdir(join(root, 'debug/.fingerprint/a-0123456789abcdef'), { recursive: true });
    await mkdir(join(root, 'release'), { recursive: true });
    await writeFile(join(root, 'debug/deps/a-0123456789abcdef'), 'x'.repeat(100));
    await link(join(root, 'debug/deps/a-0123456789abcdef'), join(root, 'debug/a'));
    await writeFile(join(root, 'debug/deps/a-0123456789abcdef.d'), 'y'.repeat(10));
    await writeFile(join(root, 'debug/.fingerprint/a-0123456789abcdef/dep-bin-a'), 'z');
    await writeFile(join(root, 'release/other'), 'w');
    await writeFile(join(root, '.rustc_info.json'), '{}');
    await writeFile(join(root, 'CACHEDIR.TAG'), 'tag');
    const s = await selectCargoState(root, ['debug'], { incremental: true });
    expect(s.paths).toEqual([
      '.rustc_info.json',
      'debug',
      'debug/.fingerprint',
      'debug/.fingerprint/a-0123456789abcdef',
      'debug/.fingerprint/a-0123456789abcdef/dep-bin-a',
      'debug/deps',
      'debug/deps/a-0123456789abcdef',
    ]);
    expect([...s.transforms]).toEqual([
      ['.rustc_info.json', 'cargo-rustc-info'],
      ['debug/.fingerprint/a-0123456789abcdef/dep-bin-a', 'cargo-dep-info'],
    ]);
    expect(s).toMatchObject({ keptBytes: 103, totalBytes: 113, keptPathBytes: 103, totalPathBytes: 213 });
    expect(s.skippedBytes).toEqual({ 'rustc dep-info (*.d)': 10 });
  });
});
