import { describe, expect, it } from 'vitest';
import { leftOutFiles, removedFileModeProblem } from './real-project.js';

describe('removedFileModeProblem', () => {
  const reason = 'its prerequisites are unknown to make and a source was removed';

  it('accepts an incremental build with nothing left out, and a partial one whose leftOut entries give reason and count', () => {
    expect(removedFileModeProblem({ mode: 'incremental', leftOut: [] })).toBeUndefined();
    expect(removedFileModeProblem({ mode: 'partial', leftOut: [{ reason, count: 3, cautious: true }] })).toBeUndefined();
  });

  it('names what is wrong otherwise', () => {
    expect(removedFileModeProblem({ mode: 'full', leftOut: [] })).toBe(`mode is "full", neither 'incremental' nor 'partial'`);
    expect(removedFileModeProblem({ mode: 'partial', leftOut: [] })).toBe('partial, yet leftOut is empty');
    expect(removedFileModeProblem({ mode: 'partial', leftOut: [{ reason: '', count: 0 }] })).toMatch(/lacking a reason or a count/);
    expect(removedFileModeProblem({ mode: 'incremental', leftOut: [{ reason, count: 1 }] })).toMatch(/^incremental, yet leftOut is/);
  });
});

describe('leftOutFiles', () => {
  it("reads the verbose log's lines naming each file left out and why", () => {
    const stderr = [
      '[orchestrate] 357 sources (git)',
      "[orchestrate] not restoring 'src/dump.o': names the old path '/a/b' (the plugin option 'relocatable: true' makes …)",
      "[orchestrate] not restoring 'src/.libs/libx.a': its prerequisites are unknown to make and a source was removed",
      '[orchestrate] restored checkpoint 0123: 52 files; 1 changed sources',
    ].join('\n');
    expect(leftOutFiles({ exitCode: 0, stdout: '', stderr, report: undefined })).toEqual([
      { path: 'src/dump.o', reason: "names the old path '/a/b' (the plugin option 'relocatable: true' makes …)" },
      { path: 'src/.libs/libx.a', reason: 'its prerequisites are unknown to make and a source was removed' },
    ]);
  });
});
