/**
 * A real autotools project as users have it: libogg (autoconf, automake and
 * libtool) from Debian's source package, in a git repository that ignores
 * what configure writes. Every build runs in a fresh clone at another path,
 * configured there first, as a CI script does: configure rewrites config.h and
 * every Makefile (same content, new mtimes, the tree's absolute path inside),
 * and the restore must still recompile only what the change requires. Each
 * result is compared byte for byte with a clean build of the same sources at
 * the same path.
 *
 * The sources come from `scripts/debian-source.sh` (apt-get source; needs
 * root, as in CI). A clone gives every file "now": its generated files
 * (aclocal.m4, configure, Makefile.in) are touched into order first, as CI
 * scripts for such repositories do, so that make never wants to run the
 * autotools (not installed).
 */
import { execa } from 'execa';
import { appendFile, cp, mkdir, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCompilerLog, runOrchestrate, tempDir, type CliRun, type CompilerLog } from '@orchestrate/core/testing';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');
const IGNORED = [
  'Makefile',
  'config.h',
  'config.status',
  'config.log',
  'libtool',
  'stamp-h1',
  '*.o',
  '*.lo',
  '*.la',
  '.libs/',
  '.deps/',
  '*.pc',
  'libogg.spec',
  'include/ogg/config_types.h',
  '_build/',
];
/** The outputs a user ships: the shared and the static library. */
const OUTPUTS = ['src/.libs/libogg.so.0.8.5', 'src/.libs/libogg.a'];

let root = '';
let pristine = '';
let cc: CompilerLog;
let env: Record<string, string> = {};

async function sh(cwd: string, command: string): Promise<void> {
  await execa('bash', ['-c', command], { cwd, env: { ...process.env, ...env }, stdin: 'ignore' });
}

/** A fresh clone at `dir`, generated files touched into order, with `config` as its orchestrate config, configured when `configure` is given. */
async function clone(dir: string, config: unknown, configure?: { args: string; in?: string }): Promise<void> {
  await execa('git', ['clone', '-q', pristine, dir]);
  await writeFile(join(dir, 'orchestrate.config.json'), `${JSON.stringify(config)}\n`);
  await sh(dir, 'touch aclocal.m4 && sleep 0.01 && touch configure config.h.in && sleep 0.01 && find . -name Makefile.in -exec touch {} +');
  if (configure) {
    const at = join(dir, configure.in ?? '.');
    await mkdir(at, { recursive: true });
    await sh(at, `${relativeConfigure(configure.in)} -q ${configure.args}`);
  }
}

function relativeConfigure(sub: string | undefined): string {
  return sub === undefined ? './configure' : `${'../'.repeat(sub.split('/').length)}configure`;
}

async function build(dir: string, store: string, extra: string[] = []): Promise<CliRun> {
  await cc.reset();
  return runOrchestrate(['build', '--verbose', ...extra], { cwd: dir, store, env });
}

/** Basenames of the C files compiled since the last reset (libtool compiles each unit twice: PIC and not). */
async function units(): Promise<string[]> {
  // configure's own test programs (conftest.c) are no units of the project.
  return [...new Set((await cc.units()).map((unit) => basename(unit)))].filter((unit) => unit !== 'conftest.c').sort();
}

async function outputs(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const path of OUTPUTS) out[path] = (await readFile(join(dir, prefix, path))).toString('base64');
  return out;
}

beforeAll(async () => {
  const fetched = await execa('bash', [join(REPO_ROOT, 'scripts/debian-source.sh'), join(REPO_ROOT, 'bench/.work/src'), 'libogg'], {
    reject: false,
  });
  expect(fetched.exitCode, `fetching libogg's Debian source failed (needs root and Debian's mirrors): ${String(fetched.stderr)}`).toBe(0);
  const source = String(fetched.stdout).trim().split('\n').pop() as string;
  root = await tempDir('orchestrate-autotools-');
  pristine = join(root, 'pristine');
  await cp(source, pristine, { recursive: true, verbatimSymlinks: true });
  await rm(join(pristine, 'debian'), { recursive: true, force: true });
  await writeFile(join(pristine, '.gitignore'), `${IGNORED.join('\n')}\n`);
  await execa('git', ['init', '-q'], { cwd: pristine });
  await execa('git', ['add', '-A'], { cwd: pristine });
  await execa('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'libogg'], { cwd: pristine });
  cc = await createCompilerLog(join(root, 'cc'));
  env = { CC: cc.path, ...cc.env };
}, 300_000);

describe('libogg, configured in-tree by the user before each build', () => {
  const config = { name: 'libogg', plugins: ['@orchestrate/plugin-make'] };
  const configure = { args: 'CFLAGS=-O2' };
  let store = '';
  let n = 0;

  /** The change built from the checkpoint in a fresh clone at another path, and from clean at that same path. */
  async function scenario(change: (dir: string) => Promise<void>, options: { configure?: { args: string } } = {}) {
    const dir = join(root, `in-tree-${++n}`, 'libogg');
    await clone(dir, config, options.configure ?? configure);
    await change(dir);
    await sh(dir, 'make -j2 >/dev/null');
    const clean = await outputs(dir);
    await rm(join(root, `in-tree-${n}`), { recursive: true, force: true });
    await clone(dir, config, options.configure ?? configure);
    await change(dir);
    const run = await build(dir, store, ['--no-save']);
    expect(run.exitCode, run.stderr).toBe(0);
    // Byte for byte what a clean build at this path makes.
    expect(await outputs(dir)).toEqual(clean);
    return { run, units: await units() };
  }

  beforeAll(async () => {
    store = join(root, 'store-in-tree');
    const first = join(root, 'first', 'libogg');
    await clone(first, config, configure);
    const run = await build(first, store);
    expect(run.exitCode, run.stderr).toBe(0);
    // The full build of a configured automake tree: no -B (it would rerun the autotools), a clean instead.
    expect(run.stderr).toContain('make clean');
    expect(run.report).toMatchObject({ mode: 'full' });
    expect(await units()).toEqual(['bitwise.c', 'framing.c']);
  }, 300_000);

  it('recompiles nothing when nothing changed, though configure rewrote config.h and every Makefile', async () => {
    const result = await scenario(async () => {});
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: [] } });
    expect(result.units).toEqual([]);
  });

  it('recompiles exactly an edited unit', async () => {
    const result = await scenario((dir) => appendFile(join(dir, 'src/bitwise.c'), '\nint ogg_orchestrate_probe(void) { return 1; }\n'));
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/bitwise.c'] } });
    expect(result.units).toEqual(['bitwise.c']);
  });

  it('recompiles exactly the includers of an edited header', async () => {
    const result = await scenario((dir) => appendFile(join(dir, 'include/ogg/ogg.h'), '\n/* edited */\n'));
    expect(result.run.report).toMatchObject({ mode: 'incremental' });
    expect(result.units).toEqual(['bitwise.c', 'framing.c']);
  });

  it('compiles what includes an added header, and nothing for a deleted file no unit reads', async () => {
    const result = await scenario(async (dir) => {
      await writeFile(join(dir, 'src/extra.h'), '#define OGG_ORCHESTRATE_EXTRA 1\n');
      const framing = join(dir, 'src/framing.c');
      await writeFile(framing, `#include "extra.h"\n${await readFile(framing, 'utf8')}`);
      await unlink(join(dir, 'AUTHORS'));
    });
    // Each sub-make's database, read with the checkpoint, shows that nothing was built from AUTHORS:
    // everything is restored, nothing is left out.
    expect(result.run.report).toMatchObject({ mode: 'incremental', changes: { added: ['src/extra.h'], removed: ['AUTHORS'] } });
    expect(result.run.report?.['leftOut'] ?? []).toEqual([]);
    expect(result.units).toEqual(['framing.c']);
  });

  it('recompiles an edited unit whose mtime is older than the checkpoint (content decides)', async () => {
    const result = await scenario(async (dir) => {
      const file = join(dir, 'src/framing.c');
      await appendFile(file, '\n/* older */\n');
      await utimes(file, new Date('2001-01-01'), new Date('2001-01-01'));
    });
    expect(result.units).toEqual(['framing.c']);
  });

  it('builds in full, naming the Makefiles, when configure ran with other flags', async () => {
    const result = await scenario(async () => {}, { configure: { args: 'CFLAGS=-O1' } });
    expect(result.run.report).toMatchObject({ mode: 'full' });
    expect(result.run.report?.['reason']).toMatch(/make does not track changes to its makefiles, and 'Makefile'.* changed/);
    expect(result.units).toEqual(['bitwise.c', 'framing.c']);
  });
});

describe('libogg, out of tree (VPATH), configured by the plugin', () => {
  it('recompiles exactly an edited unit in a fresh clone at another path, equal to a clean build there', async () => {
    const config = { name: 'libogg-vpath', plugins: [['@orchestrate/plugin-make', { objDir: '_build', configure: ['CFLAGS=-O2'] }]] };
    const store = join(root, 'store-vpath');
    const first = join(root, 'vpath-first', 'libogg');
    await clone(first, config);
    const full = await build(first, store);
    expect(full.exitCode, full.stderr).toBe(0);
    expect(full.stderr).toContain('./configure CFLAGS=-O2');
    expect(await units()).toEqual(['bitwise.c', 'framing.c']);

    const edit = (dir: string) => appendFile(join(dir, 'src/framing.c'), '\n/* vpath */\n');
    const dir = join(root, 'vpath-b', 'libogg');
    await clone(dir, config, { args: 'CFLAGS=-O2', in: '_build' });
    await edit(dir);
    await sh(join(dir, '_build'), 'make -j2 >/dev/null');
    const clean = await outputs(dir, '_build');
    await rm(join(root, 'vpath-b'), { recursive: true, force: true });
    await clone(dir, config);
    await edit(dir);
    const run = await build(dir, store, ['--no-save']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report).toMatchObject({ mode: 'incremental', changes: { modified: ['src/framing.c'] } });
    expect(await units()).toEqual(['framing.c']);
    expect(await outputs(dir, '_build')).toEqual(clean);
  });
});
