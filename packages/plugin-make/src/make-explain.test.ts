import { describe, expect, it } from 'vitest';
import { compiledSources, parseMakeDryRun } from './make-explain.js';

const OUTPUT = `GNU Make 4.3
Built for x86_64-pc-linux-gnu
Reading makefiles...
Updating makefiles....
Updating goal targets....
 File 'all' does not exist.
     Prerequisite 'src/greet.c' is newer than target 'src/greet.o'.
     Prerequisite 'src/greet.c' is newer than target 'src/greet.o'.
    Must remake target 'src/greet.o'.
cc  -Isrc -O2 -Wall -Wextra -MMD -MP -c -o src/greet.o src/greet.c
    Successfully remade target file 'src/greet.o'.
   Prerequisite 'src/greet.o' is newer than target 'hello'.
  Must remake target 'hello'.
cc -O2  -o hello src/features.o src/greet.o
  Successfully remade target file 'hello'.
Must remake target 'all'.
Successfully remade target file 'all'.
`;

describe('parseMakeDryRun', () => {
  it('lists the targets make would run a recipe for, with its reasons once each', () => {
    expect(parseMakeDryRun(OUTPUT)).toEqual([
      {
        target: 'src/greet.o',
        reasons: ["Prerequisite 'src/greet.c' is newer than target 'src/greet.o'."],
        recipe: ['cc  -Isrc -O2 -Wall -Wextra -MMD -MP -c -o src/greet.o src/greet.c'],
      },
      {
        target: 'hello',
        reasons: ["Prerequisite 'src/greet.o' is newer than target 'hello'."],
        recipe: ['cc -O2  -o hello src/features.o src/greet.o'],
      },
    ]);
  });

  it('leaves out a phony goal without a recipe', () => {
    expect(parseMakeDryRun(OUTPUT).map((r) => r.target)).not.toContain('all');
  });

  it('keeps a missing file as the reason', () => {
    const out = parseMakeDryRun(
      " File 'a.o' does not exist.\n Must remake target 'a.o'.\ncc -c -o a.o a.c\n Successfully remade target file 'a.o'.\n",
    );
    expect(out).toEqual([{ target: 'a.o', reasons: ["File 'a.o' does not exist."], recipe: ['cc -c -o a.o a.c'] }]);
  });

  it("names each sub-make's directory, though make prints it only before the sub-make's first recipe line", () => {
    const banner = 'GNU Make 4.3\nBuilt for x86_64-pc-linux-gnu\nReading makefiles...\nUpdating goal targets....\n';
    const output = [
      banner,
      " File 'all' does not exist.",
      "Must remake target 'all'.",
      'make -C lib',
      banner,
      "   Prerequisite 'count.c' is newer than target 'count.o'.",
      "  Must remake target 'count.o'.",
      "make[1]: Entering directory '/w/lib'",
      'cc -O2 -c -o count.o count.c',
      "  Successfully remade target file 'count.o'.",
      " Prerequisite 'count.o' is newer than target 'liblib.a'.",
      "Must remake target 'liblib.a'.",
      'ar rcs liblib.a count.o',
      "Successfully remade target file 'liblib.a'.",
      "make[1]: Leaving directory '/w/lib'",
      'make -C app',
      "Successfully remade target file 'all'.",
      " Prerequisite 'x.c' is newer than target 'x.o'.",
      "Must remake target 'x.o'.",
      'cc -c -o x.o x.c',
      "Successfully remade target file 'x.o'.",
    ].join('\n');
    expect(parseMakeDryRun(output)).toEqual([
      {
        target: 'count.o',
        dir: '/w/lib',
        reasons: ["Prerequisite 'count.c' is newer than target 'count.o'."],
        recipe: ['cc -O2 -c -o count.o count.c'],
      },
      {
        target: 'liblib.a',
        dir: '/w/lib',
        reasons: ["Prerequisite 'count.o' is newer than target 'liblib.a'."],
        recipe: ['ar rcs liblib.a count.o'],
      },
      { target: 'x.o', reasons: ["Prerequisite 'x.c' is newer than target 'x.o'."], recipe: ['cc -c -o x.o x.c'] },
    ]);
  });
});

describe('compiledSources', () => {
  it('names the sources of compile lines only', () => {
    expect(compiledSources(['cc -c -o src/a.o src/a.c', 'cc -o hello src/a.o'])).toEqual(['src/a.c']);
  });
});
