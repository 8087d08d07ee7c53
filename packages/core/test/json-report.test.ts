/**
 * `--json` is an interface for machines: the shape of what `build --json`
 * prints (keys and value types, not values or timings) is pinned here,
 * with `schemaVersion` on every command's object.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { orchestrate, tinyProject } from './helpers.js';

/** Each value replaced by its type; an array by `type[]`, or by the distinct shapes of its objects. */
function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'array';
    const shapes = [...new Map(value.map((v) => shapeOf(v)).map((s) => [JSON.stringify(s), s] as const)).values()];
    return shapes.every((s) => typeof s === 'string') ? `${shapes.join(' | ')}[]` : shapes;
  }
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shapeOf(v)]));
  }
  return typeof value;
}

describe('build --json', () => {
  it('prints exactly one JSON object on stdout, of this shape, for a full and an incremental build', async () => {
    const { dir, store } = await tinyProject();
    const full = await orchestrate(['build', '--json'], { cwd: dir, store });
    expect(full.exitCode, full.stderr).toBe(0);
    expect(full.stdout.trim().split('\n')).toHaveLength(1);
    expect(shapeOf(full.json)).toMatchInlineSnapshot(`
      {
        "bytesDown": "number",
        "bytesUp": "number",
        "changes": {
          "added": "string[]",
          "linkChanged": "array",
          "modeChanged": "array",
          "modified": "array",
          "removed": "array",
        },
        "command": "string",
        "durationMs": "number",
        "fullBuildMs": "number",
        "leftOut": "array",
        "mode": "string",
        "peakRssKb": "number",
        "processMs": "number",
        "reason": "string",
        "remoteError": "null",
        "restored": "null",
        "restoredBytes": "number",
        "restoredFiles": "number",
        "restoredFrom": "null",
        "saveError": "null",
        "saved": "string",
        "schemaVersion": "number",
        "timeSavedMs": "null",
        "timings": {
          "build": "number",
          "capture": "number",
          "config": "number",
          "configure": "number",
          "find": "number",
          "fingerprint": "number",
          "lock": "number",
          "restore": "number",
          "sources": "number",
        },
        "unitsRebuilt": "number",
        "unitsTotal": "number",
        "warnings": "array",
      }
    `);

    await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "hi"; }\n');
    const incremental = await orchestrate(['build', '--json'], { cwd: dir, store });
    expect(incremental.exitCode, incremental.stderr).toBe(0);
    expect(shapeOf(incremental.json)).toMatchInlineSnapshot(`
      {
        "bytesDown": "number",
        "bytesUp": "number",
        "changes": {
          "added": "array",
          "linkChanged": "array",
          "modeChanged": "array",
          "modified": "string[]",
          "removed": "array",
        },
        "command": "string",
        "durationMs": "number",
        "fullBuildMs": "number",
        "leftOut": "array",
        "mode": "string",
        "peakRssKb": "number",
        "processMs": "number",
        "reason": "null",
        "remoteError": "null",
        "restored": "string",
        "restoredBytes": "number",
        "restoredFiles": "number",
        "restoredFrom": "string",
        "saveError": "null",
        "saved": "string",
        "schemaVersion": "number",
        "timeSavedMs": "number",
        "timings": {
          "build": "number",
          "capture": "number",
          "config": "number",
          "configure": "number",
          "find": "number",
          "fingerprint": "number",
          "lock": "number",
          "restore": "number",
          "sources": "number",
        },
        "unitsRebuilt": "number",
        "unitsTotal": "number",
        "warnings": "array",
      }
    `);

    // Values a machine relies on.
    expect(full.json).toMatchObject({ command: 'build', mode: 'full', restored: null, saveError: null });
    expect(incremental.json).toMatchObject({
      command: 'build',
      mode: 'incremental',
      reason: null,
      restored: full.json?.['saved'],
      changes: { added: [], modified: ['greet.c'], removed: [], modeChanged: [], linkChanged: [] },
    });
    expect(incremental.json?.['saved']).toMatch(/^[0-9a-f]{64}$/);
    // What it saved: the full build's time is measured once and carried by the rolling checkpoint.
    expect(full.json).toMatchObject({
      schemaVersion: 1,
      restoredFiles: 0,
      restoredBytes: 0,
      unitsRebuilt: 2,
      unitsTotal: 2,
      timeSavedMs: null,
    });
    expect(incremental.json).toMatchObject({ schemaVersion: 1, fullBuildMs: full.json?.['fullBuildMs'], unitsRebuilt: 1, unitsTotal: 2 });
    // main.o, greet.o and hello, with their sizes as recorded.
    expect(incremental.json?.['restoredFiles']).toBe(3);
    expect(incremental.json?.['restoredBytes']).toBeGreaterThan(0);
    expect(incremental.json?.['timeSavedMs']).toBe((full.json?.['fullBuildMs'] as number) - (incremental.json?.['durationMs'] as number));
    await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "hey"; }\n');
    const third = await orchestrate(['build', '--json'], { cwd: dir, store });
    expect(third.json).toMatchObject({ restored: incremental.json?.['saved'], fullBuildMs: full.json?.['fullBuildMs'] });
    await writeFile(join(dir, 'greet.c'), '#include "greet.h"\nconst char *greeting(void) { return "yo"; }\n');
    const text = await orchestrate(['build'], { cwd: dir, store });
    expect(text.stderr).toMatch(
      /^restored \d+\.\d kB in 3 files from [0-9a-f]{12}; rebuilt 1 of 2 units; \d+\.\d+ s, (saved ~\d+\.\d+ s against the full build|\d+\.\d+ s more than the full build \(\d+\.\d+ s\))$/m,
    );
    // The process started before the run it reports on.
    expect(incremental.json?.['processMs']).toBeGreaterThan(incremental.json?.['durationMs'] as number);
  });

  it('list --json and gc --json print objects of this shape', async () => {
    const { dir, store } = await tinyProject();
    const build = await orchestrate(['build', '--json'], { cwd: dir, store });
    expect(build.exitCode, build.stderr).toBe(0);
    const list = await orchestrate(['list', '--json'], { cwd: dir, store });
    expect(list.exitCode, list.stderr).toBe(0);
    const shape = shapeOf(list.json) as { checkpoints: Array<{ fingerprint: Record<string, string> }> };
    expect(shape.checkpoints).toHaveLength(1);
    // Fingerprint keys belong to the plugins; only their type is the core's.
    expect(Object.values(shape.checkpoints[0]?.fingerprint ?? {}).every((t) => t === 'string')).toBe(true);
    expect({ ...shape, checkpoints: shape.checkpoints.map((c) => ({ ...c, fingerprint: 'record<string, string>' })) })
      .toMatchInlineSnapshot(`
      {
        "checkpoints": [
          {
            "bytes": "number",
            "createdAt": "string",
            "files": "number",
            "fingerprint": "record<string, string>",
            "id": "string",
            "project": "string",
          },
        ],
        "schemaVersion": "number",
        "store": "string",
      }
    `);
    const gc = await orchestrate(['gc', '--keep', '1', '--json'], { cwd: dir, store });
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(list.json?.['schemaVersion']).toBe(1);
    expect(gc.json?.['schemaVersion']).toBe(1);
    expect(shapeOf(gc.json)).toMatchInlineSnapshot(`
      {
        "blobsRemoved": "number",
        "bytesFreed": "number",
        "checkpointsRemoved": "number",
        "schemaVersion": "number",
      }
    `);
  });

  it('prints an error object on stdout when the run fails', async () => {
    const { dir } = await tinyProject({ config: '{ "plugins": ["@orchestrate/plugin-make"], "kep": 1 }\n' });
    const run = await orchestrate(['build', '--json'], { cwd: dir, store: join(dir, '..', 'store') });
    expect(run.exitCode).toBe(2);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    expect(shapeOf(run.json)).toMatchInlineSnapshot(`
      {
        "error": {
          "code": "string",
          "exitCode": "number",
          "message": "string",
        },
        "schemaVersion": "number",
      }
    `);
    expect(run.json).toMatchObject({ schemaVersion: 1, error: { code: 'ERR_CONFIG', exitCode: 2 } });
  });
});
