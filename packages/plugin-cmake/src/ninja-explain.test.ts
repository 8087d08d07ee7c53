import { describe, expect, it } from 'vitest';
import { parseNinjaExplain, parseNinjaQuery, parseNinjaTargets } from './ninja-explain.js';

describe('parseNinjaExplain', () => {
  it('groups the explain lines by the output they are about', () => {
    const out = parseNinjaExplain(
      [
        'ninja explain: output CMakeFiles/h.dir/src/a.c.o older than most recent input /w/src/a.c (1 vs 2)',
        'ninja explain: CMakeFiles/h.dir/src/a.c.o is dirty',
        "ninja explain: output CMakeFiles/h.dir/src/b.c.o doesn't exist",
        'ninja explain: command line changed for libh.a',
        'ninja explain: libh.a is dirty',
        'ninja explain: libh.a is dirty',
        '[1/2] Building C object CMakeFiles/h.dir/src/a.c.o',
      ].join('\n'),
    );
    expect([...out]).toEqual([
      [
        'CMakeFiles/h.dir/src/a.c.o',
        ['output CMakeFiles/h.dir/src/a.c.o older than most recent input /w/src/a.c (1 vs 2)', 'CMakeFiles/h.dir/src/a.c.o is dirty'],
      ],
      ['CMakeFiles/h.dir/src/b.c.o', ["output CMakeFiles/h.dir/src/b.c.o doesn't exist"]],
      ['libh.a', ['command line changed for libh.a', 'libh.a is dirty']],
    ]);
  });
});

describe('parseNinjaTargets and parseNinjaQuery', () => {
  it('reads rules by output, and inputs less order-only ones', () => {
    expect(parseNinjaTargets('all: phony\nlibh.a: C_STATIC_LIBRARY_LINKER__h_\n').get('libh.a')).toBe('C_STATIC_LIBRARY_LINKER__h_');
    const query = 'app:\n  input: LINK\n    CMakeFiles/app.dir/main.c.o\n    | libh.a\n    || libh.a\n  outputs:\n    all\n';
    expect(parseNinjaQuery(query).get('app')).toEqual(['CMakeFiles/app.dir/main.c.o', 'libh.a']);
  });
});
