import { describe, expect, it } from 'vitest';
import { encodeDepInfo, parseDepInfo, type DepInfo } from './dep-info.js';
import {
  BUILD_ROOT_PLACEHOLDER,
  captureDepInfo,
  classifyBuildOutput,
  containsRoot,
  restoreDepInfo,
  SOURCE_ROOT_PLACEHOLDER,
  textFromPlaceholders,
  textToPlaceholders,
} from './relocation.js';

const OLD = { source: ['/old/ws'], build: ['/old/ws/target'] };

describe('build output placeholders', () => {
  it('replaces the build root before the workspace root it lies in, and back', () => {
    const text =
      'cargo:rerun-if-changed=/old/ws/crates/g/data\ncargo:rustc-link-search=native=/old/ws/target/debug/build/g-0123456789abcdef/out\n';
    const stored = textToPlaceholders(text, OLD);
    expect(stored.count).toBe(2);
    expect(stored.text).toBe(
      `cargo:rerun-if-changed=${SOURCE_ROOT_PLACEHOLDER}/crates/g/data\ncargo:rustc-link-search=native=${BUILD_ROOT_PLACEHOLDER}/debug/build/g-0123456789abcdef/out\n`,
    );
    expect(textFromPlaceholders(stored.text, '/new/w', '/new/w/target').text).toBe(text.replaceAll('/old/ws', '/new/w'));
  });

  it('leaves a path that only starts like the root alone', () => {
    expect(textToPlaceholders('cargo:rerun-if-changed=/old/wsx/a\n', OLD).count).toBe(0);
  });

  it('handles a build root outside the workspace', () => {
    const stored = textToPlaceholders('/ci/target/debug/build/x/out', { source: ['/old/ws'], build: ['/ci/target'] });
    expect(textFromPlaceholders(stored.text, '/new', '/cache/t').text).toBe('/cache/t/debug/build/x/out');
  });
});

describe('classifyBuildOutput', () => {
  const stored = (text: string): string => textToPlaceholders(text, OLD).text;

  it('finds nothing to do in relative directives', () => {
    const c = classifyBuildOutput('cargo:rerun-if-changed=data/greeting.txt\ncargo::rustc-env=X=1\n', 'crates/g');
    expect(c).toMatchObject({ baked: [], cargoReruns: [], external: [], rootHits: 0 });
  });

  it('rewrites a watched path inside the package silently', () => {
    const c = classifyBuildOutput(stored('cargo:rerun-if-changed=/old/ws/crates/g/data/x\n'), 'crates/g');
    expect(c).toMatchObject({ baked: [], cargoReruns: [], rootHits: 1 });
  });

  it('says cargo reruns a script watching a path outside its package or under OUT_DIR', () => {
    const c = classifyBuildOutput(
      stored('cargo:rerun-if-changed=/old/ws/README.md\ncargo:rerun-if-changed=/old/ws/target/debug/build/g-0123456789abcdef/out/x\n'),
      'crates/g',
    );
    expect(c.cargoReruns).toHaveLength(2);
    expect(c.baked).toEqual([]);
  });

  it('flags paths handed to the compiler or to dependents', () => {
    const c = classifyBuildOutput(
      stored('cargo::rustc-env=DIR=/old/ws/crates/g\ncargo:rustc-cfg=x\ncargo::metadata=root=/old/ws\ncargo:warning=/old/ws is fine\n'),
      'crates/g',
    );
    expect(c.baked.map((d) => [d.key, d.line])).toEqual([
      ['rustc-env', 1],
      ['metadata', 3],
    ]);
  });

  it('reports watched absolute paths outside both roots', () => {
    expect(classifyBuildOutput('cargo:rerun-if-changed=/usr/include/zlib.h\n').external).toEqual(['/usr/include/zlib.h']);
  });
});

describe('dep-info placeholders', () => {
  const info: DepInfo = {
    format: 'v1',
    version: 1,
    files: [
      { type: 'build-root-relative', path: 'debug/build/g-0123456789abcdef/out/x.rs' },
      { type: 'package-root-relative', path: 'src/lib.rs' },
      { type: 'build-root-relative', path: '/old/ws/crates/c/src/../../../README.md' },
      { type: 'build-root-relative', path: '/usr/include/stdio.h' },
    ],
    env: [],
  };

  it('stores absolute workspace entries with a placeholder, restores them at the new root and reports the rest', () => {
    const bytes = Buffer.from(encodeDepInfo(info));
    const captured = captureDepInfo(bytes, OLD);
    expect(captured).toMatchObject({ parsed: true, count: 1, external: ['/usr/include/stdio.h'] });
    expect(parseDepInfo(captured.bytes).files[2]?.path).toBe(`${SOURCE_ROOT_PLACEHOLDER}/crates/c/src/../../../README.md`);
    const restored = restoreDepInfo(captured.bytes, '/new/w', '/new/w/target');
    expect(parseDepInfo(restored.bytes).files.map((f) => f.path)).toEqual([
      'debug/build/g-0123456789abcdef/out/x.rs',
      'src/lib.rs',
      '/new/w/crates/c/src/../../../README.md',
      '/usr/include/stdio.h',
    ]);
    // Restored at the same root, the bytes are the original ones.
    expect(restoreDepInfo(captured.bytes, '/old/ws', '/old/ws/target').bytes.equals(bytes)).toBe(true);
  });

  it('passes bytes it cannot decode through unchanged', () => {
    const junk = Buffer.from('not a dep-info file /old/ws');
    expect(captureDepInfo(junk, OLD)).toMatchObject({ parsed: false, bytes: junk });
  });
});

describe('containsRoot', () => {
  it('matches on path boundaries only', () => {
    expect(containsRoot(Buffer.from('x = "/old/ws/a"'), ['/old/ws'])).toBe(true);
    expect(containsRoot(Buffer.from('x = "/old/wsa"'), ['/old/ws'])).toBe(false);
    expect(containsRoot(Buffer.from('/old/ws'), ['/old/ws/'])).toBe(true);
  });
});
