import { describe, expect, it } from 'vitest';
import { dependentsOf, enteredDirectories, mergeSubMakeGraph, parseMakeDatabase, type MakeGraph } from './make-database.js';

describe('enteredDirectories', () => {
  it("lists the directories of make's Entering lines once each, in order, whatever the quotes", () => {
    const output = [
      'make  all-recursive',
      "make[1]: Entering directory '/w/ogg'",
      'Making all in src',
      "make[2]: Entering directory '/w/ogg/src'",
      'gcc -c framing.c',
      "make[2]: Leaving directory '/w/ogg/src'",
      "make[2]: Entering directory `/w/ogg/doc'",
      "gmake[1]: Entering directory '/w/ogg/src'",
      'make: Entering directory ‘/w/ogg/include’',
      'echo make[1]: Entering directory nowhere',
    ].join('\n');
    expect(enteredDirectories(output)).toEqual(['/w/ogg', '/w/ogg/src', '/w/ogg/doc', '/w/ogg/include']);
  });
});

describe('mergeSubMakeGraph', () => {
  it("names a sub-make's targets and prerequisites from the top make's directory, so a removed file's dependents are found across makes", () => {
    const top: MakeGraph = { all: ['all-recursive'], 'config.h': ['stamp-h1'] };
    const sub = parseMakeDatabase(
      [
        '# Files',
        'libogg.la: framing.lo bitwise.lo',
        'framing.lo: framing.c ../include/ogg/ogg.h /usr/include/stdio.h',
        'bitwise.lo: bitwise.c',
        '',
        '# files hash-table stats:',
      ].join('\n'),
    );
    mergeSubMakeGraph(top, sub, 'src');
    expect(top).toEqual({
      all: ['all-recursive'],
      'config.h': ['stamp-h1'],
      'src/libogg.la': ['src/framing.lo', 'src/bitwise.lo'],
      'src/framing.lo': ['src/framing.c', 'include/ogg/ogg.h', '/usr/include/stdio.h'],
      'src/bitwise.lo': ['src/bitwise.c'],
    });
    expect([...dependentsOf(top, new Set(['include/ogg/ogg.h']))].sort()).toEqual(['src/framing.lo', 'src/libogg.la']);
    expect(dependentsOf(top, new Set(['AUTHORS'])).size).toBe(0);
  });

  it('joins the prerequisites of a target both makes name', () => {
    const graph: MakeGraph = { 'lib/liblz4.a': ['lib/lz4.c'] };
    mergeSubMakeGraph(graph, { 'liblz4.a': ['lz4.c', 'lz4hc.c'] }, 'lib');
    expect(graph).toEqual({ 'lib/liblz4.a': ['lib/lz4.c', 'lib/lz4hc.c'] });
  });
});
