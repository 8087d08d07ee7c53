/**
 * Checkpoints as an attacker or an unlucky second machine makes them. Each
 * test forges a manifest that still passes the store's id check (its id is
 * only the hash of its text, so anyone who can write a manifest can make one)
 * and tries to break a rule of the restore:
 *
 * - only build state is written: never a tracked source (uncommitted edits
 *   included), version-control metadata, an ignored user file, or anything
 *   through a symbolic link that leads out of the tree or onto a source;
 * - every refusal is a full build whose report names the cause;
 * - recorded times never lie in this machine's future: with the clock of the
 *   machine that saved it 2 s or an hour ahead, or an hour behind, an edit
 *   recompiles exactly its unit and the program shows it.
 *
 * After every trial: the user's files are unchanged, nothing was written
 * outside the tree, and the program equals a clean build's.
 */
import { execa } from 'execa';
import { lstat, mkdir, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCompilerLog } from '@orchestrate/core/testing';
import { sha256 } from '../src/sources/hash.js';
import {
  makeConfig,
  orchestrate,
  orchestrateInProcess,
  storeBlobs,
  storeManifests,
  tinyProject,
  treeDigest,
  TINY_SOURCES,
  writeFiles,
} from './helpers.js';

type Manifest = Record<string, any>;

const git = (dir: string, ...args: string[]) => execa('git', args, { cwd: dir, stdin: 'ignore' });

/**
 * The tiny make project as a git work tree (outputs and `.env` ignored) with one
 * checkpoint, a canary directory beside it, and the compiler log.
 */
async function gitProject(name: string, extra: Record<string, string> = {}) {
  const project = await tinyProject({ name, config: makeConfig({ name }), files: { '.gitignore': '*.o\nhello\n.env\n', ...extra } });
  const cc = await createCompilerLog(join(project.root, 'cc'));
  const env = { CC: cc.path, ...cc.env };
  await git(project.dir, 'init', '-q');
  await git(project.dir, 'add', '-A');
  await git(project.dir, '-c', 'user.email=t@t', '-c', 'user.name=t', 'commit', '-qm', 'sources');
  const first = await orchestrateInProcess(['build', '--json'], { cwd: project.dir, store: project.store, env });
  expect(first.exitCode, first.stderr).toBe(0);
  const [manifest] = await storeManifests(project.store);
  expect(manifest && basename(manifest)).toBe(`${first.json?.['saved'] as string}.json`);
  const canary = join(project.root, 'canary');
  await mkdir(canary);
  await writeFile(join(canary, 'keep'), 'canary\n');
  await cc.reset();
  return { ...project, manifest: manifest as string, canary, env, cc };
}

/** Rewrites the manifest at `file` through `edit` and stores it under its new id, as a forger would. */
async function forge(file: string, edit: (manifest: Manifest) => void): Promise<string> {
  const json = JSON.parse(await readFile(file, 'utf8')) as Manifest;
  edit(json);
  const text = `${JSON.stringify(json)}\n`;
  const forged = join(file, '..', `${sha256(text)}.json`);
  await rm(file);
  await writeFile(forged, text);
  return forged;
}

/** A file record of the manifest whose blob exists in the store (the program's), to point forged entries at. */
function someBlob(manifest: Manifest): Manifest {
  return { ...manifest['state']['hello'], kind: 'exec' };
}

async function program(dir: string): Promise<string> {
  return String((await execa('./hello', [], { cwd: dir })).stdout);
}

/** The working tree's files but the build's outputs, for "untouched" checks. */
const userFiles = (dir: string) => treeDigest(dir, (path) => !/\.o$|^hello$/.test(path));

describe('a forged checkpoint', () => {
  it('never overwrites a tracked source, even one with uncommitted edits', async () => {
    const { dir, store, manifest, env } = await gitProject('tracked');
    await forge(manifest, (m) => {
      m['state']['greet.c'] = { ...m['state']['main.o'] };
    });
    await writeFile(join(dir, 'greet.c'), `${TINY_SOURCES['greet.c']}/* not committed yet */\n`);
    const before = await userFiles(dir);

    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store, env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toMatch(/refused: its state file 'greet\.c' is a tracked source of the working tree/);
    expect(await userFiles(dir)).toEqual(before);
    expect(await program(dir)).toBe('hello');
  });

  it('never overwrites an ignored file of the user that no build wrote', async () => {
    const { dir, store, manifest, env } = await gitProject('dotenv');
    await writeFile(join(dir, '.env'), 'SECRET=mine\n');
    await forge(manifest, (m) => {
      m['state']['.env'] = { ...m['state']['main.o'] };
    });

    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store, env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toContain(
      "'.env' exists in the working tree with other content, and orchestrate cannot show it is build output",
    );
    expect(await readFile(join(dir, '.env'), 'utf8')).toBe('SECRET=mine\n');
  });

  it('never writes into .git: not its config, not an executable hook', async () => {
    const { dir, store, manifest, env } = await gitProject('dotgit');
    const config = await readFile(join(dir, '.git/config'), 'utf8');
    await forge(manifest, (m) => {
      m['state']['.git/hooks/pre-commit'] = someBlob(m);
      m['state']['.git/config'] = { ...m['state']['main.o'] };
    });

    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store, env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toMatch(/lies in version-control metadata \('\.git'\)/);
    expect(await readFile(join(dir, '.git/config'), 'utf8')).toBe(config);
    await expect(lstat(join(dir, '.git/hooks/pre-commit'))).rejects.toThrow(/ENOENT/);
  });

  it('never writes through a symbolic link on disk that leads out of the tree', async () => {
    const { dir, store, manifest, env, canary } = await gitProject('disk-link');
    await symlink(canary, join(dir, 'out'));
    await forge(manifest, (m) => {
      m['state']['out/evil'] = someBlob(m);
      m['state']['x'] = { kind: 'link', target: 'out/keep', mtimeNs: m['state']['hello']['mtimeNs'] };
    });

    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store, env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toMatch(/'out' in the build directory is a symbolic link|leads through 'out', a symbolic link on disk/);
    expect(await readdir(canary)).toEqual(['keep']);
    await expect(lstat(join(dir, 'x'))).rejects.toThrow(/ENOENT/);
  });

  it('never restores a link that a later write would follow onto a source or out of the tree', async () => {
    for (const [path, target, why] of [
      // The compiler writes greet.o, the make plugin rewrites .d files: both through the link.
      ['greet.o', 'greet.c', /its symbolic link 'greet\.o' leads to 'greet\.c' is a tracked source/],
      ['main.d', '../canary/keep', /its symbolic link 'main\.d' points outside the build directory/],
    ] as const) {
      const { dir, store, manifest, env, canary } = await gitProject(`restored-link-${path}`);
      await forge(manifest, (m) => {
        m['state'][path] = { kind: 'link', target, mtimeNs: m['state']['hello']['mtimeNs'] };
      });
      const before = await userFiles(dir);

      const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store, env });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ mode: 'full', restored: null });
      expect(run.json?.['reason']).toMatch(why);
      expect(await userFiles(dir)).toEqual(before);
      expect(await readFile(join(canary, 'keep'), 'utf8')).toBe('canary\n');
      expect(await program(dir)).toBe('hello');
    }
  });

  it('with an unknown transform, a relative root or a time no file system holds is not used: a full build says why', async () => {
    const cases: [string, (m: Manifest) => void, RegExp][] = [
      [
        'transform',
        (m) => (m['state']['main.o']['transform'] = 'no-such-transform'),
        /no plugin provides its transform 'no-such-transform' \(file 'main\.o'\)/,
      ],
      ['root', (m) => (m['roots']['source'] = 'relative/dir'), /fails the manifest schema at 'roots\.source': expected an absolute path/],
      [
        'time',
        (m) => (m['state']['main.o']['mtimeNs'] = '99999999999999999999'),
        /recorded times run from .* outside what a file system can hold/,
      ],
      ['negative', (m) => (m['state']['main.o']['mtimeNs'] = '-1'), /outside what a file system can hold/],
    ];
    for (const [name, edit, why] of cases) {
      const { dir, store, manifest, env } = await gitProject(`bad-${name}`);
      await forge(manifest, edit);
      const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store, env });
      expect(run.exitCode, `${name}: ${run.stderr}`).toBe(0);
      expect(run.json, name).toMatchObject({ mode: 'full', restored: null });
      expect(run.json?.['reason'], name).toMatch(why);
      expect(await program(dir)).toBe('hello');
    }
  });

  it('beyond the configured limits is refused before it is read further', async () => {
    const project = await tinyProject({ name: 'limits', config: makeConfig({ name: 'limits', limits: { entries: 3 } }) });
    const first = await orchestrateInProcess(['build', '--json'], { cwd: project.dir, store: project.store });
    expect(first.exitCode, first.stderr).toBe(0);
    const run = await orchestrateInProcess(['build', '--json'], { cwd: project.dir, store: project.store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toMatch(/refused: it lists \d+ entries, more than the limit of 3 \(config 'limits\.entries'\)/);
  });
});

describe('a blob that vanishes while the restore writes (a concurrent gc)', () => {
  it('rolls back what was written and builds in full, saying why', async () => {
    // A state file over 1 MiB is copied after the small ones are written; a transform, which runs
    // between the blobs' verification and the writes, removes its blob as a concurrent gc would.
    const big = 'big.bin:\n\thead -c 2000000 /dev/urandom > $@\n';
    const project = await tinyProject({
      name: 'vanish',
      config: false,
      files: {
        Makefile: `all: hello big.bin\n${TINY_SOURCES['Makefile'] as string}${big}`,
        'orchestrate.config.mjs': `import { rmSync } from 'node:fs';
export default {
  name: 'vanish',
  plugins: ['@orchestrate/plugin-make', {
    name: 'vanisher',
    apply({ hooks }) {
      hooks.restoreFile.for('vanish').tapPromise('vanisher', async (content) => {
        rmSync(process.env.VANISH_BLOB, { force: true });
        return Buffer.from(content);
      });
    },
  }],
};
`,
      },
    });
    const first = await orchestrate(['build', '--json'], { cwd: project.dir, store: project.store });
    expect(first.exitCode, first.stderr).toBe(0);
    const [manifest] = await storeManifests(project.store);
    let bigBlob = '';
    await forge(manifest as string, (m) => {
      m['state']['main.o']['transform'] = 'vanish';
      bigBlob = m['state']['big.bin']['blob'] as string;
    });
    const blobFile = (await storeBlobs(project.store)).find((file) => file.endsWith(bigBlob)) as string;
    await writeFile(join(project.dir, 'greet.c'), `${TINY_SOURCES['greet.c']}/* edited */\n`);

    const run = await orchestrate(['build', '--json'], { cwd: project.dir, store: project.store, env: { VANISH_BLOB: blobFile } });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', restored: null });
    expect(run.json?.['reason']).toMatch(/refused: writing its state failed \(.*ENOENT/);
    expect(await program(project.dir)).toBe('hello');
    expect((await lstat(join(project.dir, 'big.bin'))).size).toBe(2_000_000);
  });
});

describe('clock skew between the machine that saved a checkpoint and the one that restores it', () => {
  const S = 1_000_000_000n;
  for (const [label, skewNs] of [
    ['2 s ahead', 2n * S],
    ['an hour ahead', 3600n * S],
    ['an hour behind', -3600n * S],
  ] as const) {
    it(`${label}: an edit recompiles exactly its unit, relinks, and the program shows it`, async () => {
      const { dir, root, store, manifest, env, cc } = await gitProject(`skew-${skewNs}`);
      // The saving machine's clock: every recorded time moved by the skew.
      await forge(manifest, (m) => {
        for (const records of [m['state'], m['sources']]) {
          for (const record of Object.values<Manifest>(records))
            record['mtimeNs'] = (BigInt(record['mtimeNs'] as string) + skewNs).toString();
        }
      });
      // A second machine: a fresh clone at another path.
      const clone = join(root, 'clone');
      await git(root, 'clone', '-q', dir, clone);
      await writeFile(join(clone, 'greet.c'), TINY_SOURCES['greet.c']!.replace('"hello"', '"skewed"'));

      const run = await orchestrateInProcess(['build', '--json'], { cwd: clone, store, env });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json, run.stderr).toMatchObject({ mode: 'incremental' });
      expect(await cc.units()).toEqual(['greet.c']);
      expect(await program(clone)).toBe('skewed');
      // Equal to a clean build of the same sources.
      const clean = join(root, 'clean');
      await mkdir(clean);
      await writeFiles(clean, { ...TINY_SOURCES, 'greet.c': TINY_SOURCES['greet.c']!.replace('"hello"', '"skewed"') });
      await execa('make', [], { cwd: clean, env: { ...process.env, ...env } });
      expect(await readFile(join(clone, 'hello'))).toEqual(await readFile(join(clean, 'hello')));
      // Nothing the restore wrote lies in this machine's future.
      const now = BigInt(Date.now()) * 1_000_000n;
      for (const name of ['hello', 'main.o', 'greet.o', 'main.c', 'greet.c']) {
        expect((await lstat(join(clone, name), { bigint: true })).mtimeNs <= now, name).toBe(true);
      }
    });
  }
});
