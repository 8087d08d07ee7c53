/**
 * nix/default.nix in real Nix builds: Debian's nix-bin (installed by
 * .ci/install-nix), single-user, sandbox on, no nixpkgs (the fixtures'
 * stand-in stdenv). Every scenario is compared byte for byte with a clean
 * derivation of the same sources, and the set of compiled units is checked;
 * the seed's mechanism (fixtures/seed-checkpoint-build.nix) runs on the same
 * edits for the side-by-side table of nix/README.md.
 *
 * Without a usable sandboxed Nix (nix-build missing, or the machine forbids
 * the namespaces the sandbox needs) every test here fails, saying why, unless
 * ORCHESTRATE_ALLOW_NO_NIX=1, which skips them with a warning.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@orchestrate/core/testing';

const CHECKOUT = resolve(import.meta.dirname, '../../..');
const FIXTURES = join(import.meta.dirname, 'nix');
const NODE = process.execPath;
const HOMELESS = '/homeless-shelter';
/** A new one per run: every derivation is built here, none comes from an earlier run's store paths. */
const NONCE = randomBytes(8).toString('hex');

interface NixRun {
  code: number;
  stdout: string;
  stderr: string;
  paths: string[];
}

function nixEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NIX_REMOTE']; // single-user: no daemon
  return env;
}

function nix(command: string, args: readonly string[]): NixRun {
  const result = spawnSync(command, args, { env: nixEnv(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stdout = result.stdout ?? '';
  return {
    code: result.status ?? -1,
    stdout,
    stderr: `${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}`,
    paths: stdout.split('\n').filter((line) => line.startsWith('/nix/store/')),
  };
}

/** Why sandboxed Nix builds cannot run here, or undefined when they can. */
function nixUnavailable(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v nix-build'], { encoding: 'utf8' });
  if (which.status !== 0) return 'nix-build is not installed (run .ci/install-nix as root)';
  const probe = `builtins.derivation { name = "orchestrate-sandbox-probe"; system = builtins.currentSystem; builder = "/bin/sh"; args = [ "-c" "echo ${NONCE} > $out" ]; }`;
  const run = nix('nix-build', ['--no-out-link', '--option', 'sandbox', 'true', '-E', probe]);
  if (run.code !== 0) {
    return `a sandboxed Nix build fails on this machine (namespaces forbidden?): ${run.stderr.trim().split('\n').slice(-4).join(' | ')}`;
  }
  return undefined;
}

const unavailable = nixUnavailable();
const allowSkip = process.env['ORCHESTRATE_ALLOW_NO_NIX'] === '1';
if (unavailable && allowSkip) {
  console.warn(`\n*** SKIPPING the Nix end-to-end tests (ORCHESTRATE_ALLOW_NO_NIX=1): ${unavailable} ***\n`);
}

/** The project every scenario edits: an in-source make build with wildcard sources, -MMD -MP headers and a binary input. */
const BASE: Record<string, string | Buffer> = {
  Makefile: [
    'CC ?= cc',
    'PREFIX ?= /usr/local',
    'SRCS := $(sort $(wildcard src/*.c))',
    'OBJS := $(SRCS:.c=.o)',
    '',
    'all: prog data.sum',
    '',
    'prog: $(OBJS)',
    '\t$(CC) -o $@ $(OBJS)',
    '',
    '%.o: %.c',
    '\t@echo "compile: $<"',
    '\t$(CC) -Iinclude -MMD -MP -c -o $@ $<',
    '',
    'data.sum: data.bin',
    '\t@echo "digest: data.bin"',
    '\tcksum < data.bin > data.sum',
    '',
    'install: all',
    '\tmkdir -p $(PREFIX)/bin $(PREFIX)/share',
    '\tcp prog $(PREFIX)/bin/prog',
    '\tcp data.sum $(PREFIX)/share/data.sum',
    '',
    '-include $(OBJS:.o=.d)',
    '',
  ].join('\n'),
  'orchestrate.config.json': '{ "plugins": ["@orchestrate/plugin-make"] }\n',
  'include/util.h': 'int util(int x);\n',
  'include/other.h': 'int other(void);\n',
  'src/main.c':
    '#include <stdio.h>\n#include "util.h"\n#include "other.h"\nint main(void) { printf("%d\\n", util(2) + other()); return 0; }\n',
  'src/util.c': '#include "util.h"\nint util(int x) { return x * 10; }\n',
  'src/other.c': '#include "other.h"\nint other(void) { return 7; }\n',
  'src/old.c': 'const char *old_name(void) { return "old"; }\n',
  'data.bin': Buffer.from([0x41, 0, 0x42, 0, 0x43, 1, 2, 3]),
};

type Edits = Record<string, string | Buffer | null>;
const EDIT_UTIL: Edits = { 'src/util.c': '#include "util.h"\nint util(int x) { return x * 11; }\n' };
const ADD_EXTRA: Edits = { 'src/extra.c': 'const char *extra_name(void) { return "extra"; }\n' };
const NEW_DATA: Edits = { 'data.bin': Buffer.from([0x41, 0, 0x42, 0, 0x43, 9, 9, 9]) };

/** What the seed's mechanism does with a scenario: builds the same output, builds a different one, or fails. */
type SeedOutcome = 'same output' | 'different output' | 'build fails';

interface Scenario {
  name: string;
  edits: Edits;
  /** The units the incremental build compiles, sorted; `digest` lines count as `data.bin`. */
  rebuilt: string[];
  seed: SeedOutcome;
}

const SCENARIOS: Scenario[] = [
  { name: 'edit', edits: EDIT_UTIL, rebuilt: ['src/util.c'], seed: 'same output' },
  {
    name: 'header',
    edits: { 'include/util.h': 'int util(int x);\n#define UTIL_FACTOR 10\n' },
    rebuilt: ['src/main.c', 'src/util.c'],
    seed: 'same output',
  },
  { name: 'add', edits: ADD_EXTRA, rebuilt: ['src/extra.c'], seed: 'build fails' },
  { name: 'delete', edits: { 'src/old.c': null }, rebuilt: [], seed: 'build fails' },
  { name: 'binary', edits: NEW_DATA, rebuilt: ['data.bin'], seed: 'build fails' },
  {
    name: 'rename',
    edits: { 'src/old.c': null, 'src/renamed.c': BASE['src/old.c'] as string },
    rebuilt: ['src/renamed.c'],
    seed: 'build fails',
  },
  { name: 'add-and-edit', edits: { ...ADD_EXTRA, ...EDIT_UTIL }, rebuilt: ['src/extra.c', 'src/util.c'], seed: 'different output' },
  { name: 'binary-and-edit', edits: { ...NEW_DATA, ...EDIT_UTIL }, rebuilt: ['data.bin', 'src/util.c'], seed: 'different output' },
];

/** Rolling: step 1 edits util.c, step 2 adds a file on top. */
const ROLLING: Edits[] = [EDIT_UTIL, { ...EDIT_UTIL, ...ADD_EXTRA }];

function apply(edits: Edits): Record<string, string | Buffer> {
  const tree = { ...BASE };
  for (const [path, content] of Object.entries(edits)) {
    if (content === null) delete tree[path];
    else tree[path] = content;
  }
  return tree;
}

async function writeTree(dir: string, tree: Record<string, string | Buffer>): Promise<void> {
  for (const [path, content] of Object.entries(tree)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Every entry below `dir`: type, mode, and content hash or link target. */
function treeOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const info = lstatSync(join(dir, path));
      if (info.isDirectory()) {
        out[path] = `dir ${(info.mode & 0o777).toString(8)}`;
        visit(path);
      } else if (info.isSymbolicLink()) {
        out[path] = `link ${readlinkSync(join(dir, path))}`;
      } else {
        out[path] = `file ${(info.mode & 0o777).toString(8)} ${createHash('sha256')
          .update(readFileSync(join(dir, path)))
          .digest('hex')}`;
      }
    }
  };
  visit('');
  return out;
}

/** Bytes of the files below `dir`. */
function bytesOf(dir: string): number {
  let total = 0;
  const visit = (path: string): void => {
    const info = lstatSync(path);
    if (info.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else total += info.size;
  };
  visit(dir);
  return total;
}

/** The units a build log says were compiled (`compile: x` and `digest: data.bin` lines), sorted. */
function compiledIn(log: string): string[] {
  const units = new Set<string>();
  for (const line of log.split('\n')) {
    const compile = /compile: (\S+)/.exec(line);
    if (compile) units.add(compile[1] as string);
    if (/digest: data\.bin/.test(line)) units.add('data.bin');
  }
  return [...units].sort();
}

describe.skipIf(unavailable !== undefined && allowSkip)('nix/default.nix in sandboxed Nix builds', () => {
  let work: string;
  let file: string;

  const build = (attr: string, extra: readonly string[] = []): NixRun =>
    nix('nix-build', [
      file,
      '-A',
      attr,
      '--no-out-link',
      '--argstr',
      'nonce',
      NONCE,
      '--option',
      'sandbox',
      'true',
      '--option',
      'extra-sandbox-paths',
      CHECKOUT,
      ...extra,
    ]);
  const built = (attr: string): NixRun => {
    const run = build(attr);
    expect(run.code, `nix-build -A ${attr} failed:\n${run.stderr.split('\n').slice(-30).join('\n')}`).toBe(0);
    return run;
  };

  beforeAll(async () => {
    if (unavailable) throw new Error(`${unavailable}\nSet ORCHESTRATE_ALLOW_NO_NIX=1 to skip the Nix tests on such a machine.`);
    rmSync(HOMELESS, { recursive: true, force: true });
    work = await tempDir('orchestrate-nix-');
    await writeTree(join(work, 'step0'), BASE);
    for (const s of SCENARIOS) await writeTree(join(work, `s-${s.name}`), apply(s.edits));
    for (const [i, edits] of ROLLING.entries()) await writeTree(join(work, `r${i + 1}`), apply(edits));
    const attrs = [
      ...SCENARIOS.map(
        (s) =>
          `  "${s.name}" = { clean = project "s-${s.name}"; inc = tools.mkCheckpointBuild (project "s-${s.name}") ckpt0; seed = seed.mkCheckpointBuild (project "s-${s.name}") seed0; };`,
      ),
    ].join('\n');
    file = join(work, 'test.nix');
    await writeFile(
      file,
      `# Generated by nix.test.ts.
{ nonce }:
let
  stdenv = import ${FIXTURES}/stdenv.nix { extraEnv = { orchestrateTestRun = nonce; }; };
  tools = import ${CHECKOUT}/nix { orchestrate = "${NODE} ${CHECKOUT}/packages/core/dist/bundle/cli/bin.cjs"; };
  seed = import ${FIXTURES}/seed-checkpoint-build.nix { };
  # Every tree is imported under one name, so every build runs in /build/source, as fetchers name sources.
  project = step: stdenv.mkDerivation { pname = "demo"; version = "1.0"; src = builtins.path { path = ${work} + "/\${step}"; name = "source"; }; };
in
rec {
  clean0 = project "step0";
  ckpt0 = tools.prepareCheckpointBuild clean0;
  seed0 = seed.prepareCheckpointBuild clean0;
  scenarios = {
${attrs}
  };
  r1 = tools.mkCheckpointBuild (project "r1") ckpt0;
  r2 = tools.mkCheckpointBuild (project "r2") r1.checkpoint;
  clean2 = project "r2";
  unsandboxed = tools.prepareCheckpointBuild (project "r1");
}
`,
    );
    built('ckpt0');
    built('seed0');
  });

  afterAll(() => {
    if (unavailable) return;
    // The Nix tests must leave no HOME behind: with the sandbox off, a created /homeless-shelter
    // makes every later non-sandboxed Nix build on the machine fail.
    expect(existsSync(HOMELESS)).toBe(false);
  });

  const seedOutcomes: Record<string, SeedOutcome> = {};

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: builds exactly ${scenario.rebuilt.join(', ') || 'no unit'} and the clean build's output; the seed: ${scenario.seed}`, () => {
      const clean = built(`scenarios.${scenario.name}.clean`).paths[0] as string;
      const inc = built(`scenarios.${scenario.name}.inc`);
      expect(inc.stderr).toContain('restored checkpoint');
      expect(compiledIn(inc.stderr)).toEqual(scenario.rebuilt);
      const incOut = inc.paths[0] as string;
      expect(incOut.endsWith('-checkpoint')).toBe(false);
      expect(treeOf(incOut)).toEqual(treeOf(clean));

      const seedRun = build(`scenarios.${scenario.name}.seed`);
      const outcome: SeedOutcome =
        seedRun.code !== 0
          ? 'build fails'
          : JSON.stringify(treeOf(seedRun.paths[0] as string)) === JSON.stringify(treeOf(clean))
            ? 'same output'
            : 'different output';
      seedOutcomes[scenario.name] = outcome;
      expect(outcome, seedRun.stderr.split('\n').slice(-12).join('\n')).toBe(scenario.seed);
    });
  }

  it("rolls: the third derivation restores the second one's checkpoint, which holds only what the first lacks", () => {
    const ckpt0 = built('ckpt0').paths[0] as string;
    built('r1');
    const r1Checkpoint = built('r1.checkpoint').paths[0] as string;
    const r2 = built('r2');
    const r2Out = r2.paths[0] as string;
    const r2Checkpoint = built('r2.checkpoint').paths[0] as string;
    expect(treeOf(r2Out)).toEqual(treeOf(built('clean2').paths[0] as string));
    expect(compiledIn(r2.stderr)).toEqual(['src/extra.c']);

    // r2 restored r1's manifest, found through its layers.
    const r1Manifest = readdirSync(join(r1Checkpoint, 'store/checkpoints'), { recursive: true })
      .map(String)
      .find((p) => p.endsWith('.json')) as string;
    expect(r2.stderr).toContain(`restored checkpoint ${r1Manifest.split('/').pop()?.slice(0, 12)}`);
    // Read in place through read-only store layers, not copied into the build's store first.
    expect(r2.stderr).not.toContain('copying checkpoint layer');
    expect(readFileSync(join(r2Checkpoint, 'layers'), 'utf8').trim().split('\n')).toEqual([`${r1Checkpoint}/store`, `${ckpt0}/store`]);
    // Each rolling checkpoint holds only blobs no earlier layer has.
    const blobs = (dir: string): string[] =>
      existsSync(join(dir, 'store/objects'))
        ? readdirSync(join(dir, 'store/objects'), { recursive: true })
            .map(String)
            .filter((p) => p.includes('/'))
        : [];
    for (const blob of blobs(r2Checkpoint)) {
      expect(existsSync(join(r1Checkpoint, 'store/objects', blob))).toBe(false);
      expect(existsSync(join(ckpt0, 'store/objects', blob))).toBe(false);
    }
    expect(bytesOf(r1Checkpoint)).toBeLessThan(bytesOf(ckpt0));
    const seed0 = built('seed0').paths[0] as string;
    console.log(
      `checkpoint bytes: prepareCheckpointBuild ${bytesOf(ckpt0)}, rolling (edit) ${bytesOf(r1Checkpoint)}, rolling (add) ${bytesOf(r2Checkpoint)}; seed's prepareCheckpointBuild ${bytesOf(seed0)}`,
    );
  });

  it('gives reproducible checkpoint outputs: nix-build --check passes on prepareCheckpointBuild and on a rolling build', () => {
    for (const attr of ['ckpt0', 'r1']) {
      const run = build(attr, ['--check']);
      expect(run.code, `nix-build -A ${attr} --check:\n${run.stderr.split('\n').slice(-15).join('\n')}`).toBe(0);
    }
  });

  it('creates no /homeless-shelter with the sandbox off', () => {
    rmSync(HOMELESS, { recursive: true, force: true });
    const run = build('unsandboxed', ['--option', 'sandbox', 'false']);
    expect(run.code, run.stderr.split('\n').slice(-15).join('\n')).toBe(0);
    expect(existsSync(HOMELESS)).toBe(false);
  });
});
