import { describe, expect, it } from 'vitest';
import { leftOutFiles } from './real-project.js';

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
