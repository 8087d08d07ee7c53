import { describe, expect, it } from 'vitest';
import { findRootOccurrences, parseBuildOutput, parseRootOutput, rewriteRoot } from './build-output.js';

const OUTPUT = [
  'cargo:rerun-if-changed=data/greeting.txt',
  'cargo:rerun-if-env-changed=HELLO_GREETING',
  'cargo::rustc-env=HELLO_GEN_BUILT=1',
  'some unrelated print',
  'cargo:include=/old/ws/target/debug/build/g-0123456789abcdef/out',
  'cargo::metadata=root=/old/ws',
  'cargo:rustc-link-search=native=/old/ws/target/debug/build/g-0123456789abcdef/out  ',
  '',
].join('\n');

describe('parseBuildOutput', () => {
  it('parses both syntaxes and old-style metadata', () => {
    const out = parseBuildOutput(OUTPUT);
    expect(out.directives.map((d) => [d.line, d.syntax, d.key, d.value])).toEqual([
      [1, 'cargo:', 'rerun-if-changed', 'data/greeting.txt'],
      [2, 'cargo:', 'rerun-if-env-changed', 'HELLO_GREETING'],
      [3, 'cargo::', 'rustc-env', 'HELLO_GEN_BUILT=1'],
      [5, 'cargo:', 'metadata', 'include=/old/ws/target/debug/build/g-0123456789abcdef/out'],
      [6, 'cargo::', 'metadata', 'root=/old/ws'],
      [7, 'cargo:', 'rustc-link-search', 'native=/old/ws/target/debug/build/g-0123456789abcdef/out'],
    ]);
    expect(out.rerunIfChanged).toEqual(['data/greeting.txt']);
    expect(out.rerunIfEnvChanged).toEqual(['HELLO_GREETING']);
    expect(out.watchesWholePackage).toBe(false);
  });

  it('flags scripts without rerun-if directives as watching the whole package', () => {
    expect(parseBuildOutput('cargo:rustc-cfg=foo\n').watchesWholePackage).toBe(true);
  });
});

describe('findRootOccurrences', () => {
  it('finds the root on path boundaries and marks those inside OUT_DIR', () => {
    const hits = findRootOccurrences(OUTPUT + 'x=/old/wsx\n', '/old/ws', {
      outDir: '/old/ws/target/debug/build/g-0123456789abcdef/out',
    });
    expect(hits.map((h) => [h.line, h.column, h.directive?.key, h.insideOutDir])).toEqual([
      [5, 14, 'metadata', true],
      [6, 21, 'metadata', false],
      [7, 31, 'rustc-link-search', true],
    ]);
  });
});

describe('rewriteRoot', () => {
  it('replaces every boundary occurrence and counts them', () => {
    const { text, count } = rewriteRoot(OUTPUT + '/old/wsx stays\n', '/old/ws', '/new/root/');
    expect(count).toBe(3);
    expect(text).toContain('cargo::metadata=root=/new/root\n');
    expect(text).toContain('/old/wsx stays');
    expect(text).not.toMatch(/\/old\/ws[/\n]/);
  });

  it('does not overlap repeated segments', () => {
    expect(rewriteRoot('/a/a/a', '/a/a', '/b')).toEqual({ text: '/b/a', count: 1 });
  });

  it('leaves text without the root untouched', () => {
    expect(rewriteRoot('cargo:rustc-cfg=x\n', '/old', '/new')).toEqual({ text: 'cargo:rustc-cfg=x\n', count: 0 });
  });
});

describe('parseRootOutput', () => {
  it('returns the OUT_DIR path', () => {
    expect(parseRootOutput('/w/target/debug/build/g-0123456789abcdef/out')).toBe('/w/target/debug/build/g-0123456789abcdef/out');
  });
});
