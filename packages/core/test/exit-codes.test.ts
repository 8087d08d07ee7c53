/**
 * The documented exit codes, each from a real failure: the build tool's
 * failure (1), usage or config error (2), store error (3), a plugin that
 * throws (4) and an interrupt (130). Busy (5) is tested in tree-lock.test.ts.
 */
import { execa } from 'execa';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_BIN } from '@orchestrate/core/testing';
import { ExitCode } from '../src/errors.js';
import { orchestrate, storeManifests, tinyProject } from './helpers.js';

describe('exit codes', () => {
  it('are distinct', () => {
    const codes = Object.values(ExitCode);
    expect(new Set(codes).size).toBe(codes.length);
    expect(ExitCode).toEqual({ Ok: 0, BuildFailed: 1, Usage: 2, Store: 3, Plugin: 4, Busy: 5, Differs: 6, Interrupted: 130 });
  });

  it('1 when the build tool fails, with the compiler error on stderr and no checkpoint saved', async () => {
    const { dir, store } = await tinyProject({
      files: { 'greet.c': '#include "greet.h"\nconst char *greeting(void) { return "hello" }\n' },
    });
    const run = await orchestrate(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/error: 'make [^']*' failed with exit code 2:/);
    // gcc quotes with ' or with ‘’ depending on the locale.
    expect(run.stderr).toMatch(/greet\.c:2:\d+: error: expected .;. before/);
    expect(run.json).toEqual({
      schemaVersion: 1,
      error: { code: 'ERR_BUILD_TOOL', message: expect.stringMatching(/greet\.c:2:\d+: error/), exitCode: 1 },
    });
    expect(await storeManifests(store)).toEqual([]);
  });

  it('2 for an unknown option', async () => {
    const { dir, store } = await tinyProject();
    const run = await orchestrate(['build', '--frobnicate'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("error: unknown option '--frobnicate'");
  });

  it('2 for an unknown command', async () => {
    const { dir } = await tinyProject();
    const run = await orchestrate(['frobnicate'], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("error: unknown command 'frobnicate'");
  });

  it('0 for --help and --version', async () => {
    const { dir } = await tinyProject();
    const help = await orchestrate(['--help'], { cwd: dir });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: orchestrate');
    const version = await orchestrate(['--version'], { cwd: dir });
    expect(version.exitCode).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('3 for gc on a store that cannot be written (a build there saves nothing and a damaged checkpoint is no error: both go on)', async () => {
    const { dir, root } = await tinyProject();
    await writeFile(join(root, 'file'), '');
    const store = join(root, 'file', 'store');
    const restore = await orchestrate(['restore', '--json'], { cwd: dir, store });
    expect(restore.exitCode, restore.stderr).toBe(0);
    const run = await orchestrate(['gc', '--keep', '1', '--json'], { cwd: dir, store });
    expect(run.exitCode).toBe(3);
    expect(run.json).toEqual({
      schemaVersion: 1,
      error: { code: 'ERR_STORE', message: expect.stringContaining(`${store}: the store is read-only`), exitCode: 3 },
    });
  });

  it('4 when a plugin throws, naming the plugin and the hook', async () => {
    const { dir, store } = await tinyProject({ config: false });
    await writeFile(
      join(dir, 'orchestrate.config.mjs'),
      [
        'export default {',
        '  plugins: [{',
        "    name: 'exploding',",
        "    apply(o) { o.hooks.fingerprint.tapPromise('exploding', async () => { throw new Error('no fingerprint today'); }); },",
        '  }],',
        '};',
        '',
      ].join('\n'),
    );
    const run = await orchestrate(['restore', '--json'], { cwd: dir, store });
    expect(run.exitCode).toBe(4);
    expect(run.stderr).toContain("error: plugin 'exploding' failed in hook 'fingerprint': no fingerprint today");
    expect(run.json?.['error']).toMatchObject({ code: 'ERR_PLUGIN', exitCode: 4 });
  });

  it('130 soon after SIGINT during the build, without saving a checkpoint', async () => {
    const { dir, store } = await tinyProject({
      files: { Makefile: 'all:\n\ttouch started\n\tsleep 30\n\ttouch finished\n' },
    });
    const child = execa(process.execPath, [CLI_BIN, 'build', '--json', '--store', store], {
      cwd: dir,
      env: { CI: 'true' },
      reject: false,
      stdin: 'ignore',
    });
    const started = Date.now();
    // Wait until make runs the recipe.
    for (;;) {
      if (
        await access(join(dir, 'started')).then(
          () => true,
          () => false,
        )
      )
        break;
      if (Date.now() - started > 60_000) throw new Error('the build never started');
      await new Promise((r) => setTimeout(r, 50));
    }
    const sent = Date.now();
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(Date.now() - sent).toBeLessThan(10_000); // not the 30 s of the recipe
    expect(String(result.stderr)).toContain('orchestrate: interrupted');
    expect(JSON.parse(String(result.stdout).trim())).toEqual({
      schemaVersion: 1,
      error: { code: 'ERR_INTERRUPTED', message: 'interrupted by SIGINT', exitCode: 130 },
    });
    expect(await storeManifests(store)).toEqual([]);
    expect(
      await access(join(dir, 'finished')).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
  });

  it('130 for Ctrl-C in a terminal, which signals the whole process group (the build tool too)', async () => {
    const { dir, store } = await tinyProject({
      files: { Makefile: 'all:\n\ttouch started\n\tsleep 30\n' },
    });
    const child = execa(process.execPath, [CLI_BIN, 'build', '--json', '--store', store], {
      cwd: dir,
      env: { CI: 'true' },
      reject: false,
      stdin: 'ignore',
      detached: true, // its own process group, as a terminal's foreground job
    });
    await waitFor(join(dir, 'started'));
    process.kill(-(child.pid as number), 'SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(JSON.parse(String(result.stdout).trim())).toMatchObject({ error: { code: 'ERR_INTERRUPTED' } });
    expect(await storeManifests(store)).toEqual([]);
  });

  it('130 and no checkpoint when interrupted after the build tool finished, during the capture', async () => {
    const { dir, store } = await tinyProject({ config: false });
    // A build plugin that runs no tool while capturing, so only the core can notice the interrupt.
    await writeFile(
      join(dir, 'orchestrate.config.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        'export default {',
        '  plugins: [{',
        "    name: 'slow-capture',",
        '    apply({ hooks }) {',
        "      hooks.build.tapPromise('slow-capture', async (ctx) => { writeFileSync(ctx.buildDir + '/out.txt', 'built'); return { command: 'write out.txt' }; });",
        "      hooks.selectState.tapPromise('slow-capture', async (selection, ctx) => {",
        "        writeFileSync(ctx.buildDir + '/capturing', '');",
        '        await new Promise((resolve) => setTimeout(resolve, 3000));',
        "        return { files: [...selection.files, { path: 'out.txt' }] };",
        '      });',
        '    },',
        '  }],',
        '};',
        '',
      ].join('\n'),
    );
    const child = execa(process.execPath, [CLI_BIN, 'build', '--json', '--store', store], {
      cwd: dir,
      env: { CI: 'true' },
      reject: false,
      stdin: 'ignore',
    });
    await waitFor(join(dir, 'capturing'));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(JSON.parse(String(result.stdout).trim())).toMatchObject({ error: { code: 'ERR_INTERRUPTED' } });
    expect(await storeManifests(store)).toEqual([]);
  });
});

async function waitFor(file: string): Promise<void> {
  const started = Date.now();
  while (
    !(await access(file).then(
      () => true,
      () => false,
    ))
  ) {
    if (Date.now() - started > 60_000) throw new Error(`'${file}' never appeared`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
