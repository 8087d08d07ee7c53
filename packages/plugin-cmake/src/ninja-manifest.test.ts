import { describe, expect, it } from 'vitest';
import { NinjaManifestError, canonicalizeNinjaPath, parseNinjaManifest, shellEscapeNinja } from './ninja-manifest.js';

const parse = (files: Record<string, string>) =>
  parseNinjaManifest('build.ninja', {
    readFile: (path) => {
      const content = files[path];
      if (content === undefined) throw new Error(`ENOENT ${path}`);
      return content;
    },
  });

describe('canonicalizeNinjaPath', () => {
  it('drops . and empty components and folds .. like ninja', () => {
    expect(canonicalizeNinjaPath('./a//b/./c/')).toBe('a/b/c');
    expect(canonicalizeNinjaPath('a/../b')).toBe('b');
    expect(canonicalizeNinjaPath('a/..')).toBe('.');
    expect(canonicalizeNinjaPath('../x/../../y')).toBe('../../y');
    expect(canonicalizeNinjaPath('//abs/./p/../q')).toBe('/abs/q');
  });
});

describe('shellEscapeNinja', () => {
  it('leaves safe paths alone and single-quotes the rest', () => {
    expect(shellEscapeNinja('a/b-c_d+e.o')).toBe('a/b-c_d+e.o');
    expect(shellEscapeNinja('a b')).toBe("'a b'");
    expect(shellEscapeNinja("it's")).toBe("'it'\\''s'");
  });
});

describe('parseNinjaManifest', () => {
  it('separates explicit, implicit and order-only paths', () => {
    const manifest = parse({
      'build.ninja': 'rule r\n  command = c $in -> $out\nbuild o1 o2 | io: r i1 i2 | ii || oo |@ v\n',
    });
    const edge = manifest.edges[0];
    expect(edge).toMatchObject({ rule: 'r', outputs: ['o1', 'o2', 'io'], implicitOutputs: 1, implicitInputs: 1, orderOnlyInputs: 1 });
    expect(edge?.inputs).toEqual(['i1', 'i2', 'ii', 'oo']);
    expect(edge?.getBinding('command')).toBe('c i1 i2 -> o1 o2');
  });

  it('joins lines continued with $ and ignores comments', () => {
    const manifest = parse({
      'build.ninja': '# comment\nrule r\n  command = a $\n      b\n  # indented comment\nbuild o: r $\n  i\n',
    });
    expect(manifest.edges[0]?.getBinding('command')).toBe('a b');
    expect(manifest.edges[0]?.inputs).toEqual(['i']);
  });

  it('rejects what ninja rejects, naming the file and line', () => {
    expect(() => parse({ 'build.ninja': 'build o: nope\n' })).toThrow(NinjaManifestError);
    expect(() => parse({ 'build.ninja': 'build o: nope\n' })).toThrow(/build\.ninja: line 1: unknown build rule 'nope'/);
    expect(() => parse({ 'build.ninja': 'rule r\n  command = x\nbuild o: r\nbuild o: r\n' })).toThrow(/multiple rules generate o/);
    expect(() => parse({ 'build.ninja': 'rule r\n  cmd = x\n' })).toThrow(/unexpected variable 'cmd'/);
    expect(() => parse({ 'build.ninja': 'x = $!\n' })).toThrow(/bad \$-escape/);
  });
});
