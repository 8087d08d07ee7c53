import { describe, expect, it } from 'vitest';
import { RelocateTextError, isBinaryContent, relocateText, rootMapper } from './relocate-text.js';

const relocate = (text: string, from = '/a/src', to = '/b/new-src'): string => relocateText(Buffer.from(text), from, to).content.toString();

describe('relocateText', () => {
  it('replaces the root before a separator, a terminator or the end', () => {
    expect(relocate('/a/src')).toBe('/b/new-src');
    expect(relocate('-I/a/src/include -I/a/src')).toBe('-I/b/new-src/include -I/b/new-src');
    expect(relocate('X:PATH=/a/src\nY="/a/src";\'/a/src\' /a/src:/a/src,')).toBe(
      'X:PATH=/b/new-src\nY="/b/new-src";\'/b/new-src\' /b/new-src:/b/new-src,',
    );
    expect(relocate('-ffile-prefix-map=/a/src=. $in\n')).toBe('-ffile-prefix-map=/b/new-src=. $in\n');
    expect(relocate('/a/src$ with$ space')).toBe('/b/new-src$ with$ space');
  });

  it('never touches a longer sibling or a path that merely ends with the root', () => {
    const text = '/a/src2 /a/src-build /a/src.bak /a/srcé /x/a/src ../a/src //a/src /a/src_x ~/a/src x/../a/src';
    const result = relocateText(Buffer.from(text), '/a/src', '/b');
    expect(result.changed).toBe(false);
    expect(result.content.toString()).toBe(text);
  });

  it('counts replacements and says whether anything changed', () => {
    const result = relocateText(Buffer.from('/a/src/x /a/src2 /a/src'), '/a/src/', '/b/');
    expect(result).toMatchObject({ changed: true, replacements: 2, binary: false });
    expect(result.content.toString()).toBe('/b/x /a/src2 /b');
  });

  it('returns the same buffer when nothing matches', () => {
    const buf = Buffer.from('nothing here');
    expect(relocateText(buf, '/a/src', '/b').content).toBe(buf);
  });

  it('leaves binary content alone', () => {
    const buf = Buffer.from('\x7fELF\0/a/src/main.o');
    expect(isBinaryContent(buf)).toBe(true);
    expect(relocateText(buf, '/a/src', '/b')).toEqual({ content: buf, changed: false, replacements: 0, binary: true });
  });

  it('handles roots with regular-expression characters and non-ASCII names', () => {
    expect(relocate('/tmp/a+b (1)/x', '/tmp/a+b (1)', '/tmp/ünï')).toBe('/tmp/ünï/x');
    expect(relocate('/tmp/ünï/x', '/tmp/ünï', '/c')).toBe('/c/x');
  });

  it('refuses relative roots and "/"', () => {
    expect(() => relocateText(Buffer.from(''), 'a/src', '/b')).toThrow(RelocateTextError);
    expect(() => relocateText(Buffer.from(''), '/', '/b')).toThrow(/absolute path other than "\/"/);
  });
});

describe('rootMapper', () => {
  it('maps the root and what is below it, nothing else', () => {
    const map = rootMapper('/a/src/', '/b');
    expect(['/a/src', '/a/src/x.c', '/a/src2/x.c', 'rel/x.c', '/x/a/src/y'].map(map)).toEqual([
      '/b',
      '/b/x.c',
      '/a/src2/x.c',
      'rel/x.c',
      '/x/a/src/y',
    ]);
  });
});
