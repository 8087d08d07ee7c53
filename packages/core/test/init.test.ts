/**
 * `orchestrate init`: a config for the build system found in the directory,
 * never written over an existing one without --force.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listTree, tempDir } from '@orchestrate/core/testing';
import { orchestrate, orchestrateInProcess, TINY_SOURCES, writeFiles } from './helpers.js';

async function dirWith(files: Record<string, string>): Promise<string> {
  const dir = join(await tempDir('orchestrate-init-'), 'project');
  await mkdir(dir);
  await writeFiles(dir, files);
  return dir;
}

describe('orchestrate init', () => {
  const systems: Array<[string, Record<string, string>, string]> = [
    ['make', { Makefile: 'all:\n\ttrue\n' }, '@orchestrate/plugin-make'],
    ['cmake', { 'CMakeLists.txt': 'cmake_minimum_required(VERSION 3.20)\nproject(x C)\n' }, '@orchestrate/plugin-cmake'],
    ['cargo', { 'Cargo.toml': '[package]\nname = "x"\nversion = "0.1.0"\n' }, '@orchestrate/plugin-cargo'],
  ];
  for (const [system, files, plugin] of systems) {
    it(`writes a config naming ${plugin} for a ${system} project`, async () => {
      const dir = await dirWith(files);
      const run = await orchestrateInProcess(['init', '--json'], { cwd: dir });
      expect(run.exitCode, run.stderr).toBe(0);
      const file = join(dir, 'orchestrate.config.json');
      expect(run.json).toEqual({ schemaVersion: 1, config: file, buildSystem: system, note: null });
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ plugins: [plugin] });
    });
  }

  describe('an autotools project', () => {
    it('configured here (config.status) takes the make plugin over a CMakeLists.txt beside it, and says so', async () => {
      const dir = await dirWith({ 'configure.ac': '', configure: '', 'config.status': '', Makefile: '', 'CMakeLists.txt': '' });
      const run = await orchestrateInProcess(['init'], { cwd: dir });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stderr).toContain('(autotools)');
      expect(run.stderr).toContain('configured with autotools here (config.status), so the make plugin over the CMakeLists.txt beside it');
      expect(JSON.parse(await readFile(join(dir, 'orchestrate.config.json'), 'utf8'))).toEqual({ plugins: ['@orchestrate/plugin-make'] });
    });

    it('not configured yet gets the make plugin running configure, before a CMakeLists.txt only when none ships', async () => {
      const dir = await dirWith({ 'configure.ac': '', configure: '', 'Makefile.in': '' });
      const run = await orchestrateInProcess(['init', '--json'], { cwd: dir });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ buildSystem: 'autotools', note: expect.stringContaining('the make plugin runs ./configure') });
      expect(JSON.parse(await readFile(join(dir, 'orchestrate.config.json'), 'utf8'))).toEqual({
        plugins: [['@orchestrate/plugin-make', { configure: [] }]],
      });
      const both = await dirWith({ 'configure.ac': '', configure: '', 'CMakeLists.txt': '' });
      const cmake = await orchestrateInProcess(['init', '--json'], { cwd: both });
      expect(cmake.json).toMatchObject({ buildSystem: 'cmake', note: expect.stringContaining("also ships autotools' configure") });
    });

    it('with only configure.ac says to run autoreconf and configure', async () => {
      const dir = await dirWith({ 'configure.ac': '', 'Makefile.am': '' });
      const run = await orchestrateInProcess(['init', '--json'], { cwd: dir });
      expect(run.json).toMatchObject({ buildSystem: 'autotools', note: expect.stringContaining('run autoreconf -i and ./configure') });
    });
  });

  it('prefers Cargo over CMake over make when several are present', async () => {
    const dir = await dirWith({ Makefile: '', 'CMakeLists.txt': '', 'Cargo.toml': '' });
    await orchestrateInProcess(['init'], { cwd: dir });
    expect(JSON.parse(await readFile(join(dir, 'orchestrate.config.json'), 'utf8'))).toEqual({ plugins: ['@orchestrate/plugin-cargo'] });
  });

  it('writes a config that builds', async () => {
    const dir = await dirWith(TINY_SOURCES);
    const init = await orchestrateInProcess(['init'], { cwd: dir });
    expect(init.stderr).toBe(`wrote ${join(dir, 'orchestrate.config.json')} (make)`);
    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store: join(dir, '..', 'store') });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full' });
  });

  it('refuses to overwrite an existing config without --force (exit 2, naming it), and replaces that file with it', async () => {
    const dir = await dirWith({ Makefile: '', 'orchestrate.config.yaml': 'name: mine\nplugins: ["./my-plugin.mjs"]\n' });
    const existing = join(dir, 'orchestrate.config.yaml');
    const run = await orchestrateInProcess(['init'], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: '${existing}' exists already (use --force to overwrite)`);
    expect(await readFile(existing, 'utf8')).toBe('name: mine\nplugins: ["./my-plugin.mjs"]\n');

    const forced = await orchestrateInProcess(['init', '--force', '--json'], { cwd: dir });
    expect(forced.exitCode, forced.stderr).toBe(0);
    // The config in effect is replaced, not shadowed by a second file.
    expect(forced.json).toEqual({ schemaVersion: 1, config: existing, buildSystem: 'make', note: null });
    expect(await listTree(dir)).toEqual(['Makefile', 'orchestrate.config.yaml']);
    const restore = await orchestrateInProcess(['restore', '--json'], { cwd: dir, store: join(dir, '..', 'store') });
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(restore.json?.['reason']).toContain("project 'project'");
  });

  it("treats package.json's orchestrate key as an existing config, and replaces only that key with --force", async () => {
    const pkg = { name: 'app', version: '1.0.0', orchestrate: { name: 'mine', plugins: [] } };
    const dir = await dirWith({ Makefile: '', 'package.json': JSON.stringify(pkg) });
    const run = await orchestrateInProcess(['init'], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`'${join(dir, 'package.json')}' has an "orchestrate" key already (use --force to overwrite)`);
    expect(await listTree(dir)).toEqual(['Makefile', 'package.json']);

    expect((await orchestrateInProcess(['init', '--force'], { cwd: dir })).exitCode).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toEqual({
      name: 'app',
      version: '1.0.0',
      orchestrate: { plugins: ['@orchestrate/plugin-make'] },
    });
  });

  it('ignores a package.json without an orchestrate key', async () => {
    const dir = await dirWith({ Makefile: '', 'package.json': '{ "name": "app" }' });
    const run = await orchestrateInProcess(['init', '--json'], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toEqual({ schemaVersion: 1, config: join(dir, 'orchestrate.config.json'), buildSystem: 'make', note: null });
  });

  it('refuses a directory without a known build system (exit 2)', async () => {
    const dir = await dirWith({ 'README.md': 'no build here\n' });
    const run = await orchestrateInProcess(['init'], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`no Cargo.toml, CMakeLists.txt, configure script or Makefile in '${dir}'`);
  });

  it('writes a config in the directory given with -C', async () => {
    const dir = await dirWith({ 'sub/Makefile': '' });
    const run = await orchestrate(['init', '-C', 'sub'], { cwd: dir });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'sub/orchestrate.config.json'), 'utf8'))).toEqual({ plugins: ['@orchestrate/plugin-make'] });
  });
});
