#!/usr/bin/env node
// The peer benchmark: orchestrate beside what a project can do without it, one
// table per project, every row measured in the same run on the same machine.
//
//   pnpm bench:peer                  (= pnpm build && node bench/peer.mjs)
//   node bench/peer.mjs [--only lua,cmark-ninja,cmark-make,rust-app,zstd,json-c,ripgrep,libogg,jansson,json-c-debug,lz4]
//                       [--rows all|goal|ROW,ROW] [--runs N] [--jobs N] [--json FILE] [--keep]
//   node bench/peer.mjs --report FILE    (the tables of a saved --json file)
//
// Every row builds the same content, the pristine sources plus the one-line
// edit of bench/run.mjs (`/* bench edit 1 */` appended to one file), so each
// row's outputs can be compared byte for byte with a clean build of those
// sources at the same path. Paths, under bench/.work/peer/<id>/:
//   x/<id>   the checkpoint's own path: every row but two runs here
//   y/<id>   another path (orchestrate in a fresh clone)
//   z/<id>   another path (orchestrate in a plain copy without .git, every
//            mtime set to 1, the edited file's too, as a Nix builder unpacks
//            the sources; its reference build is laid out the same way)
// A project's `prepare` (autoreconf, configure: what the user runs in a fresh
// tree before any build, as a CI script does) runs in every fresh tree before
// orchestrate's build, the clean build and the naive caches' build (there
// after the cache is restored), and is in no row's time (its median is in the
// notes). `--rows` runs only some rows (`goal` = native and the orchestrate
// rows); without the clean row, one clean build at x/ is the reference there.
// The "old" state is one full `orchestrate build` of the pristine sources in
// x/<id> (it saves the checkpoint); that tree is kept (cp -a) as old/ and is
// what the native, naive-cache and seed rows start from. Rows, each timed
// `--runs` times (median), interleaved run by run:
//   clean        fresh clone, configure + build
//   ccache       the same with a warm ccache (warmed once by a clean build of
//                the pristine sources; each run starts from a copy of that cache)
//   naive cache  fresh clone (every mtime now) + edit, the old build directory
//                copied in with its mtimes (cp -a, as actions/cache's tar does;
//                in-source Lua: every untracked file), configure + build
//   naive, fresh mtimes   the same cache copied without its times (cp -r),
//                after the clone: every output newer than every source
//   seed         nixpkgs' checkpointBuildTools: the old tree (without .git)
//                copied with every mtime set to 1 (as the Nix store does),
//                `diff -ur old-sources new-sources > p; patch -p1 < p`, build
//   native incr. old/ copied back with its mtimes (a warm tree), edit, build:
//                the lower bound
//   orch. same path / other path / plain copy (mtime 1): `orchestrate build`
//                after the edit, each from a copy of the store as the full
//                build left it, so every run restores the same checkpoint and
//                saves one rolling checkpoint (its bytes = store after - store
//                before). Goal (issue 13): the row's median within
//                max(1.15 x native, native + 0.15 s) of the native warm build's,
//                on wall and on CPU seconds; and its units the native build's.
// Units: compilations seen by a `cc`/`gcc` wrapper first on PATH (a ccache hit
// is not one), cargo's `invoked.timestamp` files for Rust. Correct: the
// outputs are byte-equal to the clean build's at the same path AND the edited
// file's object was rebuilt (the edit is a comment, so a stale object has the
// same bytes: "stale" says so; the wrapper log or cargo tells whether it was;
// for the ccache row, its object's mtime), and the program prints the same.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import process from 'node:process';
import { behaviour, cli, duBytes, gitId, median, newerFiles, nowNs, orchestrate, pluginInstalled, projects, sh, timed } from './lib.mjs';
import { benchDir, checkPrerequisites, formatTable, repoRoot, srcDir } from './native.mjs';

const peerDir = join(benchDir, '.work', 'peer');

// ---------------------------------------------------------------------------
// Larger projects (optional, --only): Debian source packages via scripts/debian-source.sh

function largerProjects(jobs) {
  const cmakeLarge = (id, pkg, title, extra) => ({
    id,
    title,
    larger: true,
    debian: pkg,
    plugin: '@orchestrate/plugin-cmake',
    config: { name: `bench-${id}`, plugins: [['@orchestrate/plugin-cmake', { generator: 'Ninja', buildType: 'Release', jobs }]] },
    lay: (dir) => cpSync(debianDir(pkg) + '/', dir, { recursive: true }),
    configure: ['cmake', ['-S', '.', '-B', 'build', '-G', 'Ninja', '-DCMAKE_BUILD_TYPE=Release']],
    build: ['cmake', ['--build', 'build', '-j', String(jobs)]],
    comment: (n) => `/* bench edit ${n} */`,
    cache: ['build'],
    ccache: { configure: ['-DCMAKE_C_COMPILER_LAUNCHER=ccache'] },
    check: [],
    ...extra,
  });
  return [
    {
      id: 'zstd',
      title: 'zstd 1.5.4 (Debian libzstd), make (its own Makefile, in-source): programs/zstd',
      larger: true,
      debian: 'libzstd',
      // Debian 12's security update of libzstd (+deb12u1) is listed in the source index but its
      // files are not on the mirror here (404): fall back to the release's version.
      debianPin: 'libzstd=1.5.4+dfsg2-5',
      plugin: '@orchestrate/plugin-make',
      config: { name: 'bench-zstd', plugins: [['@orchestrate/plugin-make', { targets: ['zstd-release'], jobs }]] },
      lay: (dir) => cpSync(debianDir('libzstd') + '/', dir, { recursive: true, filter: (p) => !/\/debian$|\/\.pc$/.test(p) }),
      build: ['make', [`-j${jobs}`, 'zstd-release']],
      edit: 'lib/decompress/zstd_decompress.c',
      comment: (n) => `/* bench edit ${n} */`,
      product: null,
      outputs: ['programs/zstd'],
      cache: null,
      ccache: { build: ['CC=ccache cc'] },
      check: [
        ['programs/zstd', ['-V']],
        ['programs/zstd', ['-q', '-c', '-19'], 'hello hello hello hello\n'.repeat(50)],
      ],
    },
    {
      id: 'ripgrep',
      title: "ripgrep 13.0.0 (Debian's rust-ripgrep), cargo (dev profile, offline, Debian crates)",
      larger: true,
      debian: 'rust-ripgrep',
      // Its dependencies as Debian's librust-*-dev packages (the source package's Build-Depends).
      debianCrates: [
        'librust-bstr-0.2+default-dev',
        'librust-clap-2+suggestions-dev',
        'librust-grep-0.2+default-dev',
        'librust-grep-searcher+default-dev',
        'librust-ignore-0.4+default-dev',
        'librust-lazy-static-1+default-dev',
        'librust-log-0.4+default-dev',
        'librust-num-cpus-1+default-dev',
        'librust-regex-1+default-dev',
        'librust-serde-json-1+default-dev',
        'librust-termcolor-1+default-dev',
        'librust-grep-dev',
        'librust-walkdir-dev',
      ],
      plugin: '@orchestrate/plugin-cargo',
      config: {
        name: 'bench-ripgrep',
        plugins: [['@orchestrate/plugin-cargo', { profile: 'dev', offline: true, args: ['-j', String(jobs)] }]],
      },
      lay: (dir) => {
        cpSync(debianDir('rust-ripgrep') + '/', dir, { recursive: true, filter: (p) => !/\/debian$|\/\.pc$|\/Cargo\.lock$/.test(p) });
        cpSync(join(benchDir, 'rust-app', '.cargo'), join(dir, '.cargo'), { recursive: true });
        // Debian's grep crate has no simd-accel feature, which cargo refuses to resolve.
        const manifest = join(dir, 'Cargo.toml');
        writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/^simd-accel = .*\n/m, ''));
        sh('cargo', ['generate-lockfile', '--offline'], dir);
      },
      build: ['cargo', ['build', '--offline', '-j', String(jobs)]],
      edit: 'crates/core/search.rs',
      comment: (n) => `// bench edit ${n}`,
      units: (dir, since) => newerFiles(join(dir, 'target'), since, (p) => p.endsWith('/invoked.timestamp')),
      product: 'target/debug/rg',
      outputs: ['target/debug/rg'],
      crate: 'ripgrep',
      cache: ['target'],
      check: [
        ['target/debug/rg', ['--version']],
        ['target/debug/rg', ['-n', 'hel+o', '-'], 'a\nhello world\nhelo\n'],
      ],
    },
    cmakeLarge('json-c', 'json-c', 'json-c 0.16 (Debian), CMake (Ninja)', {
      edit: 'json_object.c',
      product: 'build/CMakeFiles/json-c.dir/json_object.c.o',
      outputs: ['build/libjson-c.so.5.2.0', 'build/libjson-c.a'],
    }),
    // Issue 13: json-c's own default build type (its CMakeLists.txt sets `debug` when none is
    // given: -g, so every object names its tree), with the cmake plugin's `relocatable: true`.
    // The native configure gets the flags the plugin gives CMake at that path (prefix maps of
    // the source and build directories in CMAKE_C_FLAGS and CMAKE_CXX_FLAGS), so a clean build
    // there makes the same bytes.
    cmakeLarge(
      'json-c-debug',
      'json-c',
      'json-c 0.16 (Debian), CMake (Ninja), its default build type (debug), plugin option relocatable: true',
      {
        config: {
          name: 'bench-json-c-debug',
          plugins: [['@orchestrate/plugin-cmake', { generator: 'Ninja', relocatable: true, jobs }]],
        },
        configure: (dir) => {
          const maps = prefixMaps(dir, join(dir, 'build')).join(' ');
          return ['cmake', ['-S', '.', '-B', 'build', '-G', 'Ninja', `-DCMAKE_C_FLAGS=${maps}`, `-DCMAKE_CXX_FLAGS=${maps}`]];
        },
        edit: 'json_object.c',
        outputs: ['build/libjson-c.so.5.2.0', 'build/libjson-c.a', 'build/apps/json_parse'],
        // json_parse reads a file: its formatted output of a small document.
        check: [
          ['/bin/bash', ['-c', 'build/apps/json_parse -f /dev/stdin'], '{"a": [1, 2.5, "x\\u00e9", -0.0], "b": {"c": null, "d": true}}\n'],
        ],
      },
    ),
    autotools(jobs, 'libogg', 'libogg', 'libogg 1.3.5 (Debian), autotools + libtool (recursive automake, in-source)', {
      // Debian's tarball is upstream's release: configure and the Makefile.in are there. A clone gives
      // every file "now": the user touches the generated files into order (make never wants to run the
      // autotools), then runs configure, as the plugin's autotools test does. configure's default flags
      // are -g -O2: the prefix map of the tree (what `relocatable` gives a configure the plugin runs) keeps
      // the objects free of its path, so they restore at another path (README "Paths").
      prepare:
        'touch aclocal.m4 && sleep 0.01 && touch configure config.h.in && sleep 0.01 && find . -name Makefile.in -exec touch {} + && ./configure -q CFLAGS="-g -O2 -ffile-prefix-map=$PWD=."',
      ignore: [
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
      ],
      edit: 'src/framing.c',
      outputs: ['src/.libs/libogg.so.0.8.5', 'src/.libs/libogg.a'],
    }),
    autotools(
      jobs,
      'jansson',
      'jansson',
      'jansson 2.14 (Debian), autotools + libtool (autoreconf -fi && ./configure in each tree, in-source)',
      {
        // Debian's tarball is a git export: no configure. Its own .gitignore ignores what autoreconf and
        // configure write.
        prepare: 'autoreconf -fi >/dev/null 2>&1 && ./configure -q CFLAGS="-g -O2 -ffile-prefix-map=$PWD=."',
        edit: 'src/dump.c',
        outputs: ['src/.libs/libjansson.so.4.14.0', 'src/.libs/libjansson.a'],
      },
    ),
    {
      id: 'lz4',
      title: 'lz4 1.9.4 (Debian), plain recursive make (the top Makefile runs $(MAKE) -C lib and -C programs), in-source',
      larger: true,
      debian: 'lz4',
      plugin: '@orchestrate/plugin-make',
      // lz4 compiles with -g: every object names its tree. With the make plugin's `relocatable: true`
      // (prefix maps in CPPFLAGS, from the environment: lz4's Makefiles add to it) they restore at any
      // path; the native builds get the same CPPFLAGS at their path, so the bytes compare.
      config: { name: 'bench-lz4', plugins: [['@orchestrate/plugin-make', { targets: ['lib', 'lz4'], relocatable: true, jobs }]] },
      lay: (dir) => cpSync(debianDir('lz4') + '/', dir, { recursive: true, filter: (p) => !/\/debian$|\/\.pc$/.test(p) }),
      build: (dir) => ['env', [`CPPFLAGS=${prefixMaps(dir).join(' ')}`, 'make', `-j${jobs}`, 'lib', 'lz4']],
      edit: 'lib/lz4.c',
      comment: (n) => `/* bench edit ${n} */`,
      product: null,
      outputs: ['lib/liblz4.a', 'lib/liblz4.so.1.9.4', 'programs/lz4'],
      cache: null,
      ccache: { build: ['CC=ccache cc'] },
      check: [
        ['programs/lz4', ['-V']],
        // A round trip, and the compressed bytes themselves.
        ['/bin/bash', ['-c', 'programs/lz4 -q -c -9 | programs/lz4 -q -d -c | sha256sum'], 'hello hello hello hello\n'.repeat(200)],
        ['/bin/bash', ['-c', 'programs/lz4 -q -c -1 | sha256sum'], 'hello hello hello hello\n'.repeat(200)],
      ],
    },
  ];
}

/** CMake's prefix maps as the cmake plugin's `relocatable` gives them (shortest first). */
function prefixMaps(...dirs) {
  return [...new Set(dirs)].sort((a, b) => a.length - b.length).map((d) => `-ffile-prefix-map=${d}=.`);
}

/**
 * An autotools project built in-source by the make plugin; `prepare` is the user's own step in
 * each fresh tree before any build (configure; autoreconf first where the tarball has no configure).
 * `ignore` (when the sources have no .gitignore): what configure and the build write, so that git
 * tells them from the sources.
 */
function autotools(jobs, id, pkg, title, extra) {
  const { ignore, ...rest } = extra;
  return {
    id,
    title,
    larger: true,
    debian: pkg,
    plugin: '@orchestrate/plugin-make',
    config: { name: `bench-${id}`, plugins: [['@orchestrate/plugin-make', { jobs }]] },
    lay: (dir) => {
      cpSync(debianDir(pkg) + '/', dir, { recursive: true, filter: (p) => !/\/debian$|\/\.pc$/.test(p) });
      if (ignore) writeFileSync(join(dir, '.gitignore'), `${ignore.join('\n')}\n`);
    },
    build: ['make', [`-j${jobs}`]],
    comment: (n) => `/* bench edit ${n} */`,
    product: null,
    cache: null, // in-source: every untracked file
    ccache: null, // configure would need CC="ccache gcc"; not measured
    check: [],
    ...rest,
  };
}

function debianDir(pkg) {
  const src = join(srcDir);
  const r = spawnSync('bash', ['-c', `ls -d ${JSON.stringify(src)}/${pkg}-*/ 2>/dev/null | head -n1`], { encoding: 'utf8' });
  return r.stdout.trim().replace(/\/$/, '');
}

function fetchDebian(p) {
  if (debianDir(p.debian)) return;
  log(`fetching ${p.debian}: scripts/debian-source.sh`);
  try {
    sh('bash', [join(repoRoot, 'scripts', 'debian-source.sh'), srcDir, p.debian], repoRoot);
  } catch (error) {
    if (!p.debianPin) throw error;
    log(`scripts/debian-source.sh failed; apt-get source ${p.debianPin}`);
    sh('apt-get', ['source', '-qq', p.debianPin], srcDir);
  }
  if (!debianDir(p.debian)) throw new Error(`no ${p.debian} source in ${srcDir}`);
}

// ---------------------------------------------------------------------------
// Helpers

const log = (m) => process.stderr.write(`peer: ${m}\n`);

/** A `cc`/`gcc`/`c++`/`g++` wrapper directory first on PATH: logs each compilation (cwd and source). */
function compilerShim(dir) {
  mkdirSync(dir, { recursive: true });
  for (const name of ['cc', 'gcc', 'c++', 'g++']) {
    const real = spawnSync('bash', ['-c', `type -P ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (!real) continue;
    writeFileSync(
      join(dir, name),
      `#!/bin/sh
compile=0
for a in "$@"; do [ "$a" = "-c" ] && compile=1; done
if [ $compile = 1 ] && [ -n "$PEER_CC_LOG" ]; then
  for a in "$@"; do
    case "$a" in
      -*) ;;
      *.c|*.cc|*.cpp|*.cxx|*.C) printf '%s %s\\n' "$PWD" "$a" >> "$PEER_CC_LOG" ;;
    esac
  done
fi
exec ${real} "$@"
`,
    );
    chmodSync(join(dir, name), 0o755);
  }
}

function ccLog() {
  const file = process.env.PEER_CC_LOG;
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  // CMake's compiler checks and try_compile run in CMakeFiles/: not the project's units.
  // configure's test programs (conftest.c) neither.
  return text.split('\n').filter((l) => l && !l.includes('/CMakeFiles/CMake') && !/\/CMakeFiles\/\d/.test(l) && !/ conftest\.c$/.test(l));
}
const resetCcLog = () => rmSync(process.env.PEER_CC_LOG, { force: true });

function digests(p, dir) {
  const out = {};
  for (const f of p.outputs) {
    const abs = join(dir, f);
    out[f] = existsSync(abs) ? createHash('sha256').update(readFileSync(abs)).digest('hex').slice(0, 16) : null;
  }
  return out;
}

function gitClone(pristine, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '..'), { recursive: true });
  sh('git', [...gitId, 'clone', '-q', pristine, dir], join(dir, '..'));
}

/**
 * The pristine sources without .git: what is committed (`git archive`, so exactly the files a
 * clone has, with the same bytes, .gitattributes' conversions included; not the files of the
 * pristine's work tree that its .gitignore leaves out, such as json-c's doc/html).
 */
function plainCopy(pristine, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  sh('bash', ['-c', 'git -C "$0" archive --format=tar HEAD | tar -x -C "$1"', pristine, dir], '/');
}

const edit = (p, dir) => appendFileSync(join(dir, p.edit), `${p.comment(1)}\n`);

/**
 * A fresh tree of the edited sources at `dir`, of one of the three kinds: `clone`, a git clone
 * then the edit; `copy1`, the sources without .git with every mtime set to 1 (the edited file's
 * too), as a Nix builder unpacks them from the store.
 */
function freshTree(p, kind, pristine, dir) {
  if (kind === 'clone') {
    gitClone(pristine, dir);
    edit(p, dir);
  } else if (kind === 'copy1') {
    plainCopy(pristine, dir);
    edit(p, dir);
    sh('find', [dir, '-exec', 'touch', '-h', '-d', '@1', '{}', '+'], '/');
  } else throw new Error(`unknown tree kind ${kind}`);
}

/** The user's own steps in a fresh tree before any build (autoreconf, configure): never in a row's time. */
function prepare(p, dir) {
  if (!p.prepare) return undefined;
  return timed('bash', ['-c', p.prepare], dir).seconds;
}

/** Runs the steps (each [cmd, args, cwd]) one after another; the sum of their wall and CPU times. */
function steps(list) {
  let seconds = 0;
  let cpuSeconds = 0;
  let output = '';
  for (const [cmd, args, cwd, opts] of list) {
    const r = timed(cmd, args, cwd, opts);
    seconds += r.seconds;
    cpuSeconds += r.cpuSeconds ?? 0;
    output += r.output;
  }
  return { seconds, cpuSeconds, output };
}

const configureStep = (p, dir, extra = []) => {
  const c = typeof p.configure === 'function' ? p.configure(dir) : p.configure;
  return c ? [[c[0], [...c[1], ...extra], dir]] : [];
};
const buildStep = (p, dir, extra = []) => {
  const b = typeof p.build === 'function' ? p.build(dir) : p.build;
  return [[b[0], [...b[1], ...extra], dir]];
};

/** What a CI cache of the old build keeps: the build directory, or (in-source) every untracked file. */
function cachedPaths(p, oldTree) {
  if (p.cache) return p.cache;
  return sh('git', ['ls-files', '--others', '-z'], oldTree).stdout.split('\0').filter(Boolean);
}

// ---------------------------------------------------------------------------
// One project

function measure(p, { runs, keep, rows: wanted }) {
  const want = (row) => wanted.has(row);
  const base = join(peerDir, p.id);
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  const X = join(base, 'x', p.id);
  const Y = join(base, 'y', p.id);
  const Z = join(base, 'z', p.id);
  const old = join(base, 'old', p.id);
  const store = join(base, 'store');
  const storeSeed = join(base, 'store-seed');
  const isC = p.plugin !== '@orchestrate/plugin-cargo';
  // bench/.work is inside this repository: without a ceiling, git run in a tree without .git (the
  // plain copy, the seed's tree) would find this checkout (ripgrep's build.rs asks git for its revision).
  process.env.GIT_CEILING_DIRECTORIES = ['x', 'y', 'z'].map((d) => join(base, d)).join(':');

  // Pristine repository: the sources and an orchestrate config, committed.
  const pristine = join(base, 'pristine');
  mkdirSync(pristine, { recursive: true });
  p.lay(pristine);
  writeFileSync(join(pristine, 'orchestrate.config.json'), `${JSON.stringify(p.config, null, 2)}\n`);
  sh('git', [...gitId, 'init', '-q'], pristine);
  sh('git', [...gitId, 'add', '-A'], pristine);
  sh('git', [...gitId, 'commit', '-q', '-m', 'pristine'], pristine);

  // Each C unit as `<directory it compiled in> <source>`, both relative to the tree (CMake names
  // sources by absolute path), so that units at different paths compare.
  const unitsOf = (dir, since) =>
    isC
      ? ccLog().map((l) => {
          const [cwd, ...rest] = l.split(' ');
          const src = rest.join(' ');
          return `${relative(dir, cwd) || '.'} ${src.startsWith(`${dir}/`) ? src.slice(dir.length + 1) : src}`;
        })
      : p.units(dir, since);
  // Was the edited file's unit compiled? (Its object's mtime cannot tell: a restored output can be newer.)
  const editBase = p.edit.split('/').pop();
  const editCompiled = (units) =>
    isC
      ? units.some((u) => {
          const src = u.split(' ').pop();
          return src === editBase || src.endsWith(`/${editBase}`);
        })
      : units.some((u) => u.includes(`/${p.crate}-`));
  const productFresh = (dir) => {
    if (!p.product) return undefined;
    const abs = join(dir, p.product);
    if (!existsSync(abs)) return false;
    return statSync(abs, { bigint: true }).mtimeNs >= statSync(join(dir, p.edit), { bigint: true }).mtimeNs;
  };

  // The old state: orchestrate's full build of the pristine sources at X (saves the checkpoint).
  gitClone(pristine, X);
  prepare(p, X);
  log(`${p.id}: orchestrate build (full) in ${relative(repoRoot, X)}`);
  resetCcLog();
  const full = orchestrate(['build'], X, store);
  if (full.report.mode !== 'full') throw new Error(`first orchestrate build was ${full.report.mode}, expected full`);
  const fullUnits = unitsOf(X, 0n).length;
  rmSync(join(base, 'old'), { recursive: true, force: true });
  mkdirSync(join(base, 'old'), { recursive: true });
  sh('cp', ['-a', X, old], base);
  sh('cp', ['-a', store, storeSeed], base);
  const storeBytes = duBytes(storeSeed);

  // The seed's old and new sources (what prepareCheckpointBuild copies before the build; no .git).
  const seedSrc = join(base, 'seed-src');
  plainCopy(pristine, join(seedSrc, 'old'));
  plainCopy(pristine, join(seedSrc, 'new'));
  edit(p, join(seedSrc, 'new'));

  // References: a clean build of the edited sources at each path a row builds in.
  const refs = {};
  const reference = (dir, key, kind) => {
    log(`${p.id}: clean reference build in ${relative(repoRoot, dir)} (${kind})`);
    freshTree(p, kind, pristine, dir);
    prepare(p, dir);
    steps([...configureStep(p, dir), ...buildStep(p, dir)]);
    refs[key] = { digests: digests(p, dir), behaviour: behaviour(p, dir) };
    if (Object.values(refs[key].digests).some((d) => d === null)) {
      throw new Error(`clean build in ${dir} lacks an output: ${JSON.stringify(refs[key].digests)}`);
    }
  };
  if (want('orchOther')) reference(Y, 'y', 'clone');
  if (want('orchCopy1')) reference(Z, 'z', 'copy1'); // laid out as its row lays it (no .git, every mtime 1)
  // Without the clean row (whose first run is the reference at X), a reference build there.
  if (!want('clean')) reference(X, 'x', 'clone');

  // ccache, warmed once by a clean build of the pristine sources at X.
  const ccacheWarm = join(base, 'ccache-warm');
  const ccacheDir = join(base, 'ccache');
  const haveCcache = want('ccache') && isC && p.ccache && spawnSync('bash', ['-c', 'type -P ccache'], { encoding: 'utf8' }).stdout.trim();
  if (haveCcache) {
    log(`${p.id}: warming ccache`);
    gitClone(pristine, X);
    prepare(p, X);
    const env = { ...process.env, CCACHE_DIR: ccacheWarm };
    steps([
      ...configureStep(p, X, p.ccache.configure).map((s) => [...s, { env }]),
      ...buildStep(p, X, p.ccache.build).map((s) => [...s, { env }]),
    ]);
  }

  const verdict = (dir, refKey, fresh) => {
    const ref = refs[refKey];
    const got = digests(p, dir);
    const differ = p.outputs.filter((f) => got[f] !== ref.digests[f]);
    const same = behaviour(p, dir) === ref.behaviour;
    let correct;
    if (differ.length === 0) correct = fresh === false ? 'stale' : 'yes';
    else correct = same ? 'bytes differ' : 'WRONG';
    return { correct, fresh, outputsDiffering: differ, sameProgramOutput: same };
  };

  const rows = {
    clean: [],
    ccache: [],
    naive: [],
    naiveNow: [],
    seed: [],
    native: [],
    orchSame: [],
    orchOther: [],
    orchCopy1: [],
  };
  const attempt = (row, fn) => {
    if (!want(row)) return;
    try {
      rows[row].push(fn());
    } catch (error) {
      log(`${p.id}: ${row}: FAILED: ${error.message.split('\n').slice(0, 3).join(' | ')}`);
      rows[row].push({ failed: error.message.slice(0, 2000) });
    }
  };
  const orchRow = (dir, refKey, kind) => {
    freshTree(p, kind, pristine, dir);
    const prepareSeconds = prepare(p, dir);
    rmSync(store, { recursive: true, force: true });
    sh('cp', ['-a', storeSeed, store], base);
    const before = duBytes(store);
    resetCcLog();
    const since = nowNs();
    const r = orchestrate(['build'], dir, store);
    const units = unitsOf(dir, since);
    const problems = [];
    if (r.report.mode !== 'incremental') problems.push(`mode ${r.report.mode} (${r.report.reason})`);
    if (!r.report.changes?.modified?.includes(p.edit)) problems.push(`${p.edit} not listed as modified`);
    return {
      seconds: r.seconds,
      cpuSeconds: r.cpuSeconds,
      units: units.length,
      unitList: units,
      mode: r.report.mode,
      reason: r.report.reason,
      leftOut: r.report.leftOut,
      changes: r.report.changes,
      unitsRebuilt: r.report.unitsRebuilt,
      prepareSeconds,
      restoreMs: r.report.timings?.restore,
      timings: r.report.timings,
      checkpointAddedBytes: duBytes(store) - before,
      problems,
      ...verdict(dir, refKey, editCompiled(units)),
    };
  };

  for (let n = 1; n <= runs; n++) {
    // clean (its first run is the reference at X)
    attempt('clean', () => {
      log(`${p.id}: run ${n}/${runs}: clean`);
      freshTree(p, 'clone', pristine, X);
      const prepareSeconds = prepare(p, X);
      resetCcLog();
      const since = nowNs();
      const r = steps([...configureStep(p, X), ...buildStep(p, X)]);
      const units = unitsOf(X, since);
      if (!refs.x) refs.x = { digests: digests(p, X), behaviour: behaviour(p, X) };
      return {
        seconds: r.seconds,
        cpuSeconds: r.cpuSeconds,
        prepareSeconds,
        units: units.length,
        unitList: units,
        ...verdict(X, 'x', editCompiled(units)),
      };
    });
    if (!refs.x) throw new Error('the clean build failed: no reference at the checkpoint path');
    if (Object.values(refs.x.digests).some((d) => d === null)) {
      throw new Error(`clean build in ${X} lacks an output: ${JSON.stringify(refs.x.digests)}`);
    }

    if (haveCcache) {
      attempt('ccache', () => {
        log(`${p.id}: run ${n}/${runs}: clean with a warm ccache`);
        freshTree(p, 'clone', pristine, X);
        prepare(p, X);
        rmSync(ccacheDir, { recursive: true, force: true });
        sh('cp', ['-a', ccacheWarm, ccacheDir], base);
        const env = { ...process.env, CCACHE_DIR: ccacheDir };
        sh('ccache', ['--zero-stats'], base, { env });
        resetCcLog();
        const since = nowNs();
        const r = steps([
          ...configureStep(p, X, p.ccache.configure).map((s) => [...s, { env }]),
          ...buildStep(p, X, p.ccache.build).map((s) => [...s, { env }]),
        ]);
        const units = unitsOf(X, since);
        const stats = Object.fromEntries(
          sh('ccache', ['--print-stats'], base, { env })
            .stdout.trim()
            .split('\n')
            .map((l) => l.split('\t')),
        );
        const hits = Number(stats.direct_cache_hit ?? 0) + Number(stats.preprocessed_cache_hit ?? 0);
        return {
          seconds: r.seconds,
          cpuSeconds: r.cpuSeconds,
          units: units.length,
          unitList: units,
          ccacheHits: hits,
          ccacheMisses: Number(stats.cache_miss ?? 0),
          ...verdict(X, 'x', productFresh(X)),
        };
      });
    }

    attempt('native', () => {
      log(`${p.id}: run ${n}/${runs}: native incremental (warm tree)`);
      rmSync(X, { recursive: true, force: true });
      sh('cp', ['-a', old, X], base);
      edit(p, X);
      resetCcLog();
      const since = nowNs();
      const r = steps(buildStep(p, X));
      const units = unitsOf(X, since);
      return {
        seconds: r.seconds,
        cpuSeconds: r.cpuSeconds,
        units: units.length,
        unitList: units,
        // What the build tool printed (its tail): the lower bound is only one if it did the same work.
        output: r.output.slice(-6000),
        ...verdict(X, 'x', editCompiled(units)),
      };
    });

    // The naive CI cache: a fresh clone, the old build's files copied in (`cp -a` keeps their mtimes, as tar
    // does; `cp -r` gives them "now", every output newer than every source), then the CI script.
    const naiveCacheRow = (copy, what) => () => {
      log(`${p.id}: run ${n}/${runs}: ${what}`);
      freshTree(p, 'clone', pristine, X);
      const paths = cachedPaths(p, old);
      resetCcLog();
      const since = nowNs();
      const restore = timed('bash', ['-c', `cd "$1" && shift && cp ${copy} --parents "$@" "$0"`, X, old, ...paths], base);
      // The user's own steps (configure) after the restore, as the CI script runs them: not timed.
      const prepareSeconds = prepare(p, X);
      const r = steps([...configureStep(p, X), ...buildStep(p, X)]);
      const units = unitsOf(X, since);
      return {
        seconds: restore.seconds + r.seconds,
        cpuSeconds: r.cpuSeconds,
        restoreSeconds: restore.seconds,
        prepareSeconds,
        units: units.length,
        unitList: units,
        ...verdict(X, 'x', editCompiled(units)),
      };
    };
    attempt('naive', naiveCacheRow('-a', 'naive CI cache'));
    attempt('naiveNow', naiveCacheRow('-r', 'naive CI cache restored with fresh mtimes'));

    attempt('seed', () => {
      log(`${p.id}: run ${n}/${runs}: the seed's mechanism`);
      rmSync(X, { recursive: true, force: true });
      resetCcLog();
      const since = nowNs();
      // checkpoint-build.nix: the old tree's outputs (mtime 1, as in the Nix store), the diff of
      // the old sources against the new ones applied with patch -p1, then the build.
      const r = steps([
        ['bash', ['-c', 'cp -a "$0" "$1" && rm -rf "$1/.git" && find "$1" -exec touch -h -d @1 {} +', old, X], base],
        [
          'bash',
          [
            '-c',
            'cd "$0" && { diff -ur old new > "$1"; test $? -le 1; } && patch -s -p1 -d "$2" < "$1"',
            seedSrc,
            join(base, 'seed.patch'),
            X,
          ],
          base,
        ],
        ...buildStep(p, X),
      ]);
      const units = unitsOf(X, since);
      return {
        seconds: r.seconds,
        cpuSeconds: r.cpuSeconds,
        units: units.length,
        unitList: units,
        ...verdict(X, 'x', editCompiled(units)),
      };
    });

    attempt('orchSame', () => {
      log(`${p.id}: run ${n}/${runs}: orchestrate, fresh clone at the checkpoint's own path`);
      return orchRow(X, 'x', 'clone');
    });
    attempt('orchOther', () => {
      log(`${p.id}: run ${n}/${runs}: orchestrate, fresh clone at another path`);
      return orchRow(Y, 'y', 'clone');
    });
    attempt('orchCopy1', () => {
      log(`${p.id}: run ${n}/${runs}: orchestrate, plain copy without git, every mtime 1`);
      return orchRow(Z, 'z', 'copy1');
    });
  }

  const result = {
    id: p.id,
    title: p.title,
    edit: p.edit,
    prepare: p.prepare,
    status: 'ok',
    fullBuild: { seconds: full.seconds, units: fullUnits },
    storeBytes,
    references: refs,
    rows,
  };
  if (!keep)
    for (const d of ['x', 'y', 'z', 'old', 'store', 'store-seed', 'seed-src', 'ccache', 'ccache-warm'])
      rmSync(join(base, d), { recursive: true, force: true });
  return result;
}

// ---------------------------------------------------------------------------
// Report

const ROWS = [
  ['clean', 'clean build'],
  ['ccache', 'clean build, warm ccache'],
  ['naive', 'naive CI cache (build dir restored, mtimes kept)'],
  ['naiveNow', 'naive CI cache, restored with fresh mtimes'],
  ['seed', "seed's mechanism (old tree at mtime 1 + patch)"],
  ['native', 'native warm incremental (lower bound)'],
  ['orchSame', 'orchestrate, fresh clone, checkpoint path'],
  ['orchOther', 'orchestrate, fresh clone, another path'],
  ['orchCopy1', 'orchestrate, plain copy without git, every mtime 1'],
  // Saved runs from before issue 13: the plain copy then kept "now" as every mtime (cp -r).
  ['orchCopy', 'orchestrate, plain copy without git (cp -r: mtimes now)'],
];

/** The rows `--rows` may name; `goal` = the rows issue 13's goal concerns. */
const ROW_KEYS = ROWS.map(([key]) => key).filter((key) => key !== 'orchCopy');
const ROW_ALIASES = { all: ROW_KEYS, goal: ['native', 'orchSame', 'orchOther', 'orchCopy1'] };

/**
 * Issue 13's goal for an orchestrate row: within max(1.15 × native, native + 0.15 s) of the
 * native warm incremental build after the same edit, on the medians; for wall and CPU seconds.
 */
export const goalLimit = (native) => (native === undefined ? undefined : Math.max(1.15 * native, native + 0.15));

/** The units as a multiset (sorted), for comparing a row's with the native warm build's. */
const unitKey = (list) => JSON.stringify([...(list ?? [])].sort());

export function summarize(result) {
  const s = {};
  for (const [key] of ROWS) {
    const runs = result.rows[key] ?? [];
    if (runs.length === 0) continue;
    const ok = runs.filter((r) => !r.failed);
    const corrects = [...new Set(ok.map((r) => r.correct))];
    s[key] = {
      runs: runs.length,
      failed: runs.length - ok.length,
      seconds: median(ok.map((r) => r.seconds)),
      cpuSeconds: median(ok.map((r) => r.cpuSeconds)),
      units: [...new Set(ok.map((r) => r.units))],
      correct: runs.length - ok.length ? [...corrects, 'build failed'] : corrects,
      ccacheHits: median(ok.map((r) => r.ccacheHits)),
      ccacheMisses: median(ok.map((r) => r.ccacheMisses)),
      checkpointAddedBytes: median(ok.map((r) => r.checkpointAddedBytes)),
      restoreMs: median(ok.map((r) => r.restoreMs)),
      prepareSeconds: median(ok.map((r) => r.prepareSeconds)),
      problems: [...new Set(ok.flatMap((r) => r.problems ?? []))],
      // What failed, in a line: the build tool's first error in the output.
      failures: [
        ...new Set(
          runs
            .filter((r) => r.failed)
            .map((r) => {
              const first = [/cannot find[^\\\n"]{0,100}/, /No rule to make target[^\\\n"]{0,100}/, /error:[^\\\n"]{0,120}/]
                .map((re) => r.failed.match(re)?.[0])
                .find(Boolean);
              return first ?? r.failed.split('\n')[0];
            }),
        ),
      ],
      unitLists: [...new Set(ok.map((r) => unitKey(r.unitList)))],
    };
  }
  // The goal, and whether each orchestrate row compiled what the native warm build compiled.
  const native = s.native;
  const limit = { seconds: goalLimit(native?.seconds), cpuSeconds: goalLimit(native?.cpuSeconds) };
  for (const [key, r] of Object.entries(s)) {
    if (!key.startsWith('orch')) continue;
    const verdict = (v, l) => (v === undefined || l === undefined ? undefined : v <= l ? 'pass' : 'fail');
    r.goal = { wall: verdict(r.seconds, limit.seconds), cpu: verdict(r.cpuSeconds, limit.cpuSeconds), limit };
    if (native && native.unitLists.length === 1 && r.unitLists.length > 0) {
      const want = JSON.parse(native.unitLists[0]);
      // A few names of each side's extra units, each once (libtool compiles a source twice).
      const names = (list) => {
        const unique = [...new Set(list)];
        return unique.length === 0 ? '-' : unique.slice(0, 4).join(', ') + (unique.length > 4 ? `, +${unique.length - 4} more` : '');
      };
      const diffs = r.unitLists.map((k) => {
        const got = JSON.parse(k);
        const more = got.filter((u) => !want.includes(u));
        const fewer = want.filter((u) => !got.includes(u));
        return more.length === 0 && fewer.length === 0 && got.length === want.length
          ? 'same'
          : `${got.length} against ${want.length}; more: ${names(more)}; fewer: ${names(fewer)}`;
      });
      r.unitsVsNative = [...new Set(diffs)];
      r.goal.units = r.unitsVsNative.every((d) => d === 'same') ? 'same' : 'differ';
    }
    r.goal.correct = r.correct.every((c) => c === 'yes') ? 'yes' : r.correct.join(', ');
  }
  return s;
}

/** The goal of issue 13 per orchestrate row, for --json: limits and pass/fail on wall and CPU medians. */
export function goalOf(result) {
  if (result.status !== 'ok') return undefined;
  const s = summarize(result);
  const out = {};
  for (const [key, r] of Object.entries(s))
    if (r.goal) out[key] = { ...r.goal, seconds: r.seconds, cpuSeconds: r.cpuSeconds, unitsVsNative: r.unitsVsNative };
  return out;
}

const secs = (v) => (v === undefined ? '-' : `${v.toFixed(2)} s`);
const mb = (b) => (b === undefined ? '-' : Math.abs(b) < 1e6 ? `${(b / 1e3).toFixed(1)} kB` : `${(b / 1e6).toFixed(1)} MB`);
const x = (a, b) => (a === undefined || !b ? '-' : `${(a / b).toFixed(2)}x`);

export function projectTable(result, runs) {
  if (result.status !== 'ok') return `### ${result.id}: ${result.status}: ${result.why}\n`;
  const s = summarize(result);
  const lower = s.native?.seconds;
  const clean = s.clean?.seconds;
  const rows = ROWS.filter(([key]) => s[key]).map(([key, label]) => {
    const r = s[key];
    const notes = [];
    if (key === 'ccache' && r.ccacheHits !== undefined)
      notes.push(`ccache ${r.ccacheHits} hits / ${r.ccacheMisses} misses (a comment-only edit preprocesses to the same text: a hit)`);
    if (key.startsWith('naive')) notes.push('time includes restoring the cache');
    if (key === 'seed') notes.push('time includes the copy and patch');
    if (r.restoreMs !== undefined) notes.push(`restore ${Math.round(r.restoreMs)} ms`);
    if (r.prepareSeconds !== undefined) notes.push(`the user's steps before it ${secs(r.prepareSeconds)}, not in the time`);
    if (r.unitsVsNative && !r.unitsVsNative.every((d) => d === 'same'))
      notes.push(`UNITS NOT THE NATIVE BUILD'S: ${r.unitsVsNative.join(' | ')}`);
    if (r.problems.length) notes.push(`PROBLEMS: ${r.problems.join('; ')}`);
    if (r.failed) notes.push(`${r.failed} of ${r.runs} runs failed: ${r.failures.join(' | ')}`);
    return [
      label,
      secs(r.seconds),
      x(r.seconds, lower),
      x(r.seconds, clean),
      r.cpuSeconds === undefined ? '-' : `${r.cpuSeconds.toFixed(2)} s (${x(r.cpuSeconds, s.native?.cpuSeconds)})`,
      r.units.join('/') || '-',
      r.correct.join(', '),
      key.startsWith('orch') ? mb(r.checkpointAddedBytes) : '',
      r.goal
        ? `${r.goal.wall ?? '-'} / ${r.goal.cpu ?? '-'}${r.goal.units === 'differ' ? ', units differ' : ''}${r.goal.correct !== 'yes' ? `, not correct` : ''}`
        : '',
      notes.join('; '),
    ];
  });
  const limit = goalLimit(s.native?.seconds);
  const limitCpu = goalLimit(s.native?.cpuSeconds);
  const goalLine =
    limit === undefined
      ? ''
      : `; goal for orchestrate rows: ≤ max(1.15 × native, native + 0.15 s) = ${secs(limit)} wall, ${secs(limitCpu)} CPU (medians)`;
  return [
    `### ${result.id}: ${result.title}`,
    '',
    `edit: \`${result.edit}\` (one comment line appended); median of ${runs}; store after the full build: ${mb(result.storeBytes)} (full build ${secs(result.fullBuild.seconds)}, ${result.fullBuild.units} units)${goalLine}`,
    ...(result.prepare ? ['', `the user's steps in each fresh tree before any build (not in any row's time): \`${result.prepare}\``] : []),
    '',
    formatTable(
      [
        'row',
        'time',
        'vs lower bound',
        'vs clean',
        'CPU (vs lower bound)',
        'units',
        'correct',
        'checkpoint adds',
        'goal (wall / CPU)',
        'notes',
      ],
      rows,
    ),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = {
    only: null,
    runs: 3,
    jobs: os.availableParallelism?.() ?? os.cpus().length,
    json: null,
    keep: false,
    report: null,
    rows: new Set(ROW_KEYS),
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') opts.only = value().split(',').filter(Boolean);
    else if (a === '--runs') opts.runs = Number(value());
    else if (a === '--rows') {
      const names = value().split(',').filter(Boolean);
      const unknown = names.filter((r) => !ROW_KEYS.includes(r) && !ROW_ALIASES[r]);
      if (unknown.length)
        throw new Error(`unknown row ${unknown.join(', ')}; known: ${[...Object.keys(ROW_ALIASES), ...ROW_KEYS].join(', ')}`);
      opts.rows = new Set(names.flatMap((r) => ROW_ALIASES[r] ?? [r]));
    } else if (a === '--jobs' || a === '-j') opts.jobs = Number(value());
    else if (a === '--json') opts.json = value();
    else if (a === '--keep') opts.keep = true;
    else if (a === '--report') opts.report = value();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: node bench/peer.mjs [--only lua,cmark-ninja,cmark-make,rust-app,zstd,json-c,ripgrep,libogg,jansson,json-c-debug,lz4]\n' +
          '                           [--rows all|goal|ROW,ROW] [--runs N] [--jobs N] [--json FILE] [--keep]\n' +
          '       node bench/peer.mjs --report FILE   (the tables of a saved --json file)\n' +
          'default projects: lua, cmark-ninja, cmark-make, rust-app; the larger ones only with --only\n' +
          `rows (default all): ${ROW_KEYS.join(', ')}; goal = ${ROW_ALIASES.goal.join(',')}\n`,
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new Error('--jobs must be a positive integer');
  return opts;
}

function header(saved) {
  return `peer benchmark: ${saved.machine}; jobs ${saved.jobs}; medians of ${saved.runs} runs\n`;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.report) {
    const saved = JSON.parse(readFileSync(opts.report, 'utf8'));
    process.stdout.write(`${header(saved)}\n${saved.results.map((r) => projectTable(r, saved.runs)).join('\n')}`);
    return;
  }
  const all = [...projects(opts.jobs), ...largerProjects(opts.jobs)];
  let list = all.filter((p) => !p.larger);
  if (opts.only) {
    const unknown = opts.only.filter((id) => !all.some((p) => p.id === id));
    if (unknown.length) throw new Error(`unknown project ${unknown.join(', ')}; known: ${all.map((p) => p.id).join(', ')}`);
    list = all.filter((p) => opts.only.includes(p.id));
  }
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run pnpm build first (pnpm bench:peer does)`);
  const corpus = list.filter((p) => !p.larger);
  if (checkPrerequisites(corpus).length) {
    log('fetching sources: bash bench/fetch.sh');
    const r = spawnSync('bash', [join(benchDir, 'fetch.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench/fetch.sh failed (exit ${r.status})`);
  }
  for (const p of list.filter((q) => q.larger)) {
    fetchDebian(p);
    if (p.debianCrates) {
      const missing = p.debianCrates.filter(
        (c) => spawnSync('dpkg-query', ['-W', '-f=${Status}', c], { encoding: 'utf8' }).stdout !== 'install ok installed',
      );
      if (missing.length) {
        log(`apt-get install ${missing.join(' ')} (some are virtual packages dpkg-query cannot see; a no-op when present)`);
        sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], repoRoot, {
          env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
        });
      }
    }
  }
  if (list.some((p) => p.ccache) && !spawnSync('bash', ['-c', 'type -P ccache'], { encoding: 'utf8' }).stdout.trim()) {
    log("installing Debian's ccache (apt-get)");
    spawnSync(
      'bash',
      ['-c', 'apt-get install -y -qq ccache >/dev/null || (apt-get update -qq && apt-get install -y -qq ccache >/dev/null)'],
      { stdio: 'inherit' },
    );
  }

  // The compiler wrapper, first on PATH for every build of this run (orchestrate's too).
  mkdirSync(peerDir, { recursive: true });
  const shim = join(peerDir, 'cc-shim');
  compilerShim(shim);
  process.env.PATH = `${shim}:${process.env.PATH}`;
  process.env.PEER_CC_LOG = join(peerDir, 'cc.log');

  const uptimeBefore = spawnSync('uptime', [], { encoding: 'utf8' }).stdout.trim();
  const results = [];
  for (const p of list) {
    if (!pluginInstalled(p.plugin)) {
      results.push({ id: p.id, title: p.title, status: 'skipped', why: `plugin not installed (${p.plugin})` });
      continue;
    }
    const t0 = Date.now();
    try {
      const r = measure(p, opts);
      r.wallSeconds = (Date.now() - t0) / 1000;
      r.goal = goalOf(r);
      results.push(r);
      process.stdout.write(`\n${projectTable(r, opts.runs)}`);
    } catch (error) {
      log(`${p.id}: FAILED: ${error.message}`);
      results.push({ id: p.id, title: p.title, status: 'failed', why: error.message.split('\n')[0], error: error.message });
      process.stdout.write(`\n${projectTable(results.at(-1), opts.runs)}`);
    }
    log(`${p.id}: ${((Date.now() - t0) / 1000).toFixed(0)} s for the whole project`);
  }
  const uptimeAfter = spawnSync('uptime', [], { encoding: 'utf8' }).stdout.trim();
  const machine = `${os.availableParallelism?.() ?? os.cpus().length} CPUs, node ${process.version}; uptime at the start: ${uptimeBefore}; at the end: ${uptimeAfter}`;
  process.stdout.write(`\n${header({ machine, jobs: opts.jobs, runs: opts.runs })}`);
  if (opts.json) {
    const saved = { machine, jobs: opts.jobs, runs: opts.runs, rows: [...opts.rows], results };
    writeFileSync(opts.json, `${JSON.stringify(saved, null, 2)}\n`);
  }
  if (results.some((r) => r.status === 'failed')) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench/peer.mjs: ${err.message}\n`);
  process.exit(1);
});
