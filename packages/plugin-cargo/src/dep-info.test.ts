import { describe, expect, it } from 'vitest';
import {
  DepInfoError,
  encodeDepInfo,
  hasChecksums,
  parseDepInfo,
  relocateDepInfo,
  resolveDepInfoPath,
  tryParseDepInfo,
} from './dep-info.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

// Real files written by cargo 1.95 for examples/cargo-hello.
// hello-gen lib: src/lib.rs (package-relative) and its generated OUT_DIR file (build-root-relative).
const GEN_LIB =
  '01000000ff0102000000013600000064656275672f6275696c642f68656c6c6f2d67656e2d313633333139333638643339656434372f6f75742f6772656574696e672e727300000a0000007372632f6c69622e72730000000000';
// hello-leaf lib built with -Zchecksum-freshness: a blake3 checksum on src/lib.rs.
const LEAF_CHECKSUM =
  '01000000ff0101000000000a0000007372632f6c69622e7273018a0100000000000047000000626c616b65333d3364663065666263373365376137336631393431323863613663396265303761666532656333313630663839656237306536653635343438623833633962643200000000';
// cargo's own v0 test vector (dep_info.rs `parse_v0_fingerprint_dep_info`): one file "rust", no env.
const V0 = '01000000' + '00' + '04000000' + '72757374' + '00000000';

describe('parseDepInfo', () => {
  it('decodes a current-format file with package- and build-root-relative entries', () => {
    const info = parseDepInfo(hex(GEN_LIB));
    expect(info.format).toBe('v1');
    expect(info.version).toBe(1);
    expect(info.files).toEqual([
      { type: 'build-root-relative', path: 'debug/build/hello-gen-163319368d39ed47/out/greeting.rs' },
      { type: 'package-root-relative', path: 'src/lib.rs' },
    ]);
    expect(info.env).toEqual([]);
    expect(hasChecksums(info)).toBe(false);
  });

  it('decodes checksums written under checksum freshness', () => {
    const info = parseDepInfo(hex(LEAF_CHECKSUM));
    expect(info.files).toEqual([
      {
        type: 'package-root-relative',
        path: 'src/lib.rs',
        checksum: { size: 394n, value: 'blake3=3df0efbc73e7a73f194128ca6c9be07afe2ec3160f89eb70e6e65448b83c9bd2' },
      },
    ]);
    expect(hasChecksums(info)).toBe(true);
  });

  it('decodes the marker-less v0 format', () => {
    const info = parseDepInfo(hex(V0));
    expect(info).toEqual({ format: 'v0', version: 0, files: [{ type: 'package-root-relative', path: 'rust' }], env: [] });
  });

  it('decodes env pairs, set and unset', () => {
    const info = {
      format: 'v1',
      version: 1,
      files: [{ type: 'package-root-relative', path: 'src/lib.rs' }],
      env: [{ name: 'Gimli', value: 'Legolas' }, { name: 'Beren', value: 'Lúthien' }, { name: 'UNSET' }],
    } as const;
    expect(parseDepInfo(encodeDepInfo(info))).toEqual(info);
  });

  it('rejects truncated and trailing data with the offset', () => {
    expect(() => parseDepInfo(hex(GEN_LIB).subarray(0, 20))).toThrow(DepInfoError);
    expect(() => parseDepInfo(hex(`${GEN_LIB}00`))).toThrow(/trailing/);
    expect(tryParseDepInfo(hex('01000000ff02'))).toBeUndefined();
  });
});

describe('encodeDepInfo', () => {
  it.each([
    ['v1', GEN_LIB],
    ['v1 with checksum', LEAF_CHECKSUM],
    ['v0', V0],
  ])('round-trips a %s file byte for byte', (_label, bytes) => {
    expect(Buffer.from(encodeDepInfo(parseDepInfo(hex(bytes)))).toString('hex')).toBe(bytes);
  });

  it('refuses to put a checksum into v0', () => {
    const info = parseDepInfo(hex(LEAF_CHECKSUM));
    expect(() => encodeDepInfo({ ...info, format: 'v0', version: 0 })).toThrow(/v0 cannot carry/);
  });
});

describe('relocateDepInfo', () => {
  it('rewrites only absolute entries under the old root', () => {
    const info = parseDepInfo(
      encodeDepInfo({
        format: 'v1',
        version: 1,
        files: [
          { type: 'package-root-relative', path: 'src/lib.rs' },
          { type: 'build-root-relative', path: '/old/ws/README.md' },
          { type: 'build-root-relative', path: '/old/wsx/other.txt' },
          { type: 'build-root-relative', path: '/usr/include/x.h' },
        ],
        env: [],
      }),
    );
    const { info: moved, rewritten } = relocateDepInfo(info, '/old/ws', '/new/place/');
    expect(rewritten).toBe(1);
    expect(moved.files.map((f) => f.path)).toEqual(['src/lib.rs', '/new/place/README.md', '/old/wsx/other.txt', '/usr/include/x.h']);
  });

  it('resolves entries as cargo does', () => {
    const roots = { packageRoot: '/w/crates/a', buildRoot: '/w/target' };
    expect(resolveDepInfoPath({ type: 'package-root-relative', path: 'src/lib.rs' }, roots)).toBe('/w/crates/a/src/lib.rs');
    expect(resolveDepInfoPath({ type: 'build-root-relative', path: 'debug/build/x/out/g.rs' }, roots)).toBe(
      '/w/target/debug/build/x/out/g.rs',
    );
    expect(resolveDepInfoPath({ type: 'build-root-relative', path: '/abs/f' }, roots)).toBe('/abs/f');
  });
});
