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
});

describe('compiledSources', () => {
  it('names the sources of compile lines only', () => {
    expect(compiledSources(['cc -c -o src/a.o src/a.c', 'cc -o hello src/a.o'])).toEqual(['src/a.c']);
  });
});
