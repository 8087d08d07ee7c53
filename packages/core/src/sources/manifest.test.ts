import { describe, expect, it } from 'vitest';
import { changeCount, changedPaths, diffManifests, NO_CHANGES, type SourceEntry } from './manifest.js';
import { gitBlobId } from './hash.js';

const file = (content: string): SourceEntry => ({ hash: gitBlobId(content), kind: 'file' });
const exec = (content: string): SourceEntry => ({ hash: gitBlobId(content), kind: 'exec' });
const link = (target: string): SourceEntry => ({ hash: gitBlobId(target), kind: 'link', target });
const tree = (entries: Record<string, SourceEntry>): Map<string, SourceEntry> => new Map(Object.entries(entries));

describe('diffManifests', () => {
  it('finds nothing between equal trees', () => {
    const t = tree({ 'a.c': file('a'), 'run.sh': exec('x'), cur: link('a.c') });
    expect(diffManifests(t, new Map(t))).toEqual(NO_CHANGES);
  });

  it('lists a new path as added', () => {
    expect(diffManifests(tree({ 'a.c': file('a') }), tree({ 'a.c': file('a'), 'b.c': file('b') }))).toEqual({
      ...NO_CHANGES,
      added: ['b.c'],
    });
  });

  it('lists a path whose content changed as modified', () => {
    expect(diffManifests(tree({ 'a.c': file('a') }), tree({ 'a.c': file('A') })).modified).toEqual(['a.c']);
  });

  it('lists a path that is gone as removed', () => {
    expect(diffManifests(tree({ 'a.c': file('a'), 'b.c': file('b') }), tree({ 'a.c': file('a') }))).toEqual({
      ...NO_CHANGES,
      removed: ['b.c'],
    });
  });

  it('lists an executable bit flipped without a content change as modeChanged, both ways', () => {
    expect(diffManifests(tree({ 'run.sh': file('x') }), tree({ 'run.sh': exec('x') }))).toEqual({ ...NO_CHANGES, modeChanged: ['run.sh'] });
    expect(diffManifests(tree({ 'run.sh': exec('x') }), tree({ 'run.sh': file('x') }))).toEqual({ ...NO_CHANGES, modeChanged: ['run.sh'] });
  });

  it('lists a content change with a mode flip as modified only', () => {
    expect(diffManifests(tree({ 'run.sh': file('x') }), tree({ 'run.sh': exec('y') }))).toEqual({ ...NO_CHANGES, modified: ['run.sh'] });
  });

  it('lists a retargeted link as linkChanged', () => {
    expect(diffManifests(tree({ cur: link('a.txt') }), tree({ cur: link('b.txt') }))).toEqual({ ...NO_CHANGES, linkChanged: ['cur'] });
  });

  it('counts a file that turned into a link, and a link that turned into a file, as modified', () => {
    // Same bytes as the link target string: the git blob ids are equal, the kind decides.
    expect(diffManifests(tree({ p: file('a.txt') }), tree({ p: link('a.txt') }))).toEqual({ ...NO_CHANGES, modified: ['p'] });
    expect(diffManifests(tree({ p: link('a.txt') }), tree({ p: file('a.txt') }))).toEqual({ ...NO_CHANGES, modified: ['p'] });
    expect(diffManifests(tree({ p: link('a.txt') }), tree({ p: exec('a.txt') }))).toEqual({ ...NO_CHANGES, modified: ['p'] });
  });

  it('sorts every list and keeps each path in one list', () => {
    const before = tree({
      'z.c': file('z'),
      'm.c': file('m'),
      'k.sh': file('k'),
      l2: link('x'),
      l1: link('x'),
      'd2.c': file(''),
      'd1.c': file(''),
    });
    const after = tree({
      'z.c': file('Z'),
      'm.c': file('M'),
      'k.sh': exec('k'),
      l2: link('y'),
      l1: link('y'),
      'b.c': file(''),
      'a.c': file(''),
    });
    const changes = diffManifests(before, after);
    expect(changes).toEqual({
      added: ['a.c', 'b.c'],
      modified: ['m.c', 'z.c'],
      removed: ['d1.c', 'd2.c'],
      modeChanged: ['k.sh'],
      linkChanged: ['l1', 'l2'],
    });
    expect(changeCount(changes)).toBe(9);
    expect(changedPaths(changes)).toEqual(['a.c', 'b.c', 'k.sh', 'l1', 'l2', 'm.c', 'z.c']);
  });
});

describe('gitBlobId', () => {
  it('is the id git gives the content', () => {
    // `printf 'hello\n' | git hash-object --stdin` and `git hash-object /dev/null`
    expect(gitBlobId('hello\n')).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(gitBlobId('')).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
  });
});
