/**
 * Config files as a user writes them, read by the real CLI: every supported
 * form is found, and every bad config is refused with exit code 2 and a
 * message that names the file (and the key, or the plugin).
 */
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeConfig, orchestrate, orchestrateInProcess, storeManifests, tinyProject, treeDigest } from './helpers.js';

const REPO = resolve(import.meta.dirname, '../../..');

/** A tiny project whose config is `file` with `content` (no orchestrate.config.json). */
async function projectWith(file: string, content: string) {
  const project = await tinyProject({ config: false });
  await writeFile(join(project.dir, file), content);
  return { ...project, file: join(project.dir, file) };
}

describe('bad config', () => {
  it('without any config, exits 2, says none was found and hints at init', async () => {
    const { dir, store } = await tinyProject({ config: false });
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`no orchestrate config found in '${dir}'`);
    expect(run.stderr).toContain("hint: run 'orchestrate init'");
  });

  it('with -c naming a file that does not exist, exits 2 and names it', async () => {
    const { dir, store } = await tinyProject();
    const run = await orchestrateInProcess(['build', '-c', 'elsewhere.json'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${join(dir, 'elsewhere.json')}: cannot read the config: ENOENT`);
  });

  it('with malformed JSON, exits 2 and names the file', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.json', '{ "plugins": ["@orchestrate/plugin-make"], }\n');
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: cannot read the config`);
    // Where: the trailing comma's closing brace, on line 1.
    expect(run.stderr).toMatch(/at position 43 \(line 1, column 44\)/);
  });

  it('with malformed YAML, exits 2 and names the file', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.yaml', 'plugins:\n  - "@orchestrate/plugin-make"\n bad: [\n');
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: cannot read the config`);
    expect(run.stderr).toContain('bad indentation');
  });

  it('with a malformed package.json, exits 2 and names it (no crash)', async () => {
    const { dir, store, file } = await projectWith('package.json', '{ "name": "x",\n');
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: cannot read the config`);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('with an .mjs config that throws, exits 2 and names the file', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.mjs', "throw new Error('config exploded');\n");
    const run = await orchestrate(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: cannot read the config: config exploded`);
  });

  it('with an .mjs config that has a syntax error, exits 2, names the file and shows the syntax error', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.mjs', 'export default { plugins: [,, };\n');
    const run = await orchestrate(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: cannot read the config: Unexpected token`);
  });

  it('with an empty config file, exits 2 and says it is empty', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.json', '');
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: the config file is empty`);
  });

  it('with an unknown key, exits 2 and names the key and the file', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.json', makeConfig({ buildDirectory: 'out' }));
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: unknown key 'buildDirectory'`);
    expect(run.stderr).toContain('expected one of: name, plugins, sourceDir, buildDir');
  });

  it('with a key of the wrong type, exits 2 and names the key and the expected type', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.yaml', 'plugins: ["@orchestrate/plugin-make"]\nkeep: "three"\n');
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: key 'keep': `);
    expect(run.stderr).toContain('expected number');
  });

  it('with an unknown plugin, exits 2 and names the plugin and the config file', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.json', makeConfig({ plugins: ['@orchestrate/plugin-nonexistent'] }));
    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: cannot load plugin '@orchestrate/plugin-nonexistent': not found`);
    expect(run.stderr).toContain('hint: install it');
    expect(run.json).toEqual({ schemaVersion: 1, error: { code: 'ERR_PLUGIN_LOAD', message: expect.stringContaining(file), exitCode: 2 } });
  });

  it('with a plugin option the plugin does not know, exits 2, names the plugin, the option and the file, and builds nothing', async () => {
    const { dir, store, file } = await projectWith(
      'orchestrate.config.json',
      makeConfig({ plugins: [['@orchestrate/plugin-make', { jobz: 2 }]] }),
    );
    const before = await treeDigest(dir);
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(
      `error: ${file}: @orchestrate/plugin-make: unknown option 'jobz', did you mean 'jobs'? ` +
        '(known: command, makefile, targets, variables, jobs, objDir, buildFiles, onBuildFileChange, fullBuild, configure)',
    );
    expect(await treeDigest(dir)).toEqual(before); // make never ran
    expect(await storeManifests(store)).toEqual([]);
  });

  it("with cargo's release flag as an option, exits 2 before any build, suggesting the profile option, with the code in --json", async () => {
    const { dir, store, file } = await projectWith(
      'orchestrate.config.json',
      '{ "plugins": [["@orchestrate/plugin-cargo", { "release": true }]] }\n',
    );
    const run = await orchestrateInProcess(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: @orchestrate/plugin-cargo: unknown option 'release', did you mean profile: "release"?`);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(run.json).toEqual({
      schemaVersion: 1,
      error: { code: 'ERR_PLUGIN_OPTIONS', message: expect.stringContaining(file), exitCode: 2 },
    });
  });

  it('with an .mjs config that gives a plugin factory a value of the wrong type, exits 2 and names the file, the plugin and the option', async () => {
    const { dir, store, file } = await projectWith(
      'orchestrate.config.mjs',
      "import make from '@orchestrate/plugin-make';\nexport default { plugins: [make({ jobs: '4' })] };\n",
    );
    await mkdir(join(dir, 'node_modules/@orchestrate'), { recursive: true });
    await symlink(join(REPO, 'packages/core'), join(dir, 'node_modules/@orchestrate/core'));
    await symlink(join(REPO, 'packages/plugin-make'), join(dir, 'node_modules/@orchestrate/plugin-make'));
    const run = await orchestrate(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toBe(`error: ${file}: @orchestrate/plugin-make: option 'jobs' expects a positive whole number, got "4"`);
  });

  it('with no plugins, exits 2 and says a build-system plugin is needed', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.json', '{ "plugins": [] }\n');
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: no plugins`);
  });
});

describe('config forms', () => {
  const forms: Array<[string, string]> = [
    ['orchestrate.config.json', '{ "name": "form-json", "plugins": ["@orchestrate/plugin-make"] }\n'],
    ['orchestrate.config.yaml', 'name: form-yaml\nplugins:\n  - "@orchestrate/plugin-make"\n'],
    ['.orchestraterc', 'name: form-rc\nplugins: ["@orchestrate/plugin-make"]\n'],
    ['package.json', '{ "name": "pkg", "orchestrate": { "name": "form-package-json", "plugins": ["@orchestrate/plugin-make"] } }\n'],
  ];
  for (const [file, content] of forms) {
    it(`finds ${file}`, async () => {
      const { dir, store } = await projectWith(file, content);
      const name = /"?name"?: "?(form-[a-z-]+)/.exec(content)?.[1];
      // restore loads the config and its plugins; its reason names the project the config names.
      const run = await orchestrateInProcess(['restore', '--json'], { cwd: dir, store });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ command: 'restore', mode: 'full', reason: `no checkpoint of project '${name}' in ${store}` });
    });
  }

  it('finds orchestrate.config.mjs written with defineConfig and a plugin object', async () => {
    const { dir, store } = await projectWith(
      'orchestrate.config.mjs',
      [
        "import { defineConfig } from '@orchestrate/core';",
        "import make from '@orchestrate/plugin-make';",
        "export default defineConfig({ name: 'form-mjs', plugins: [make(), false, null] });",
        '',
      ].join('\n'),
    );
    // As a user has it installed: the packages in the project's node_modules.
    await mkdir(join(dir, 'node_modules/@orchestrate'), { recursive: true });
    await symlink(join(REPO, 'packages/core'), join(dir, 'node_modules/@orchestrate/core'));
    await symlink(join(REPO, 'packages/plugin-make'), join(dir, 'node_modules/@orchestrate/plugin-make'));
    const run = await orchestrate(['restore', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full', reason: `no checkpoint of project 'form-mjs' in ${store}` });
  });

  it("resolves a JSON config's plugin from orchestrate's own installation when the project is outside the repository", async () => {
    const { dir, store } = await tinyProject();
    expect(dir.startsWith(REPO)).toBe(false);
    const run = await orchestrate(['build', '--json'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json).toMatchObject({ mode: 'full' });
    expect(run.json?.['saved']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('loads plugin packages of the project named in a JSON config, an ES module and a CommonJS "require" entry, with their options', async () => {
    const { dir, store } = await tinyProject({
      config:
        '{ "name": "third-party", "plugins": [["orchestrate-plugin-esm", { "word": "esm" }], ["orchestrate-plugin-cjs", { "word": "cjs" }]] }\n',
    });
    // Each taps `build` and writes its option; the second runs only if the first did not bail.
    const apply = (name: string, bail: boolean) =>
      `apply(o) { o.hooks.build.tapPromise('${name}', async (ctx) => { require('node:fs').appendFileSync(require('node:path').join(ctx.sourceDir, 'built-by'), options.word + '\\n'); return ${bail ? "{ command: 'echo' }" : 'undefined'}; }); }`;
    const packages = {
      'orchestrate-plugin-esm': {
        manifest: { name: 'orchestrate-plugin-esm', type: 'module', exports: { '.': { import: './index.js' } } },
        file: 'index.js',
        source: `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport default (options) => ({ name: 'esm', ${apply('esm', false)} });\n`,
      },
      'orchestrate-plugin-cjs': {
        manifest: { name: 'orchestrate-plugin-cjs', exports: { '.': { require: './index.cjs', default: './index.mjs' } } },
        file: 'index.cjs',
        source: `module.exports = { default: (options) => ({ name: 'cjs', ${apply('cjs', true)} }) };\n`,
      },
    };
    for (const [name, pkg] of Object.entries(packages)) {
      const at = join(dir, 'node_modules', name);
      await mkdir(at, { recursive: true });
      await writeFile(join(at, 'package.json'), JSON.stringify(pkg.manifest));
      await writeFile(join(at, pkg.file), pkg.source);
    }
    const run = await orchestrate(['build', '--json', '--no-save'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await readFile(join(dir, 'built-by'), 'utf8')).toBe('esm\ncjs\n');
  });

  it('says a plugin package that exports no entry for it is not found (exit 2), naming it', async () => {
    const { dir, store, file } = await projectWith('orchestrate.config.json', '{ "plugins": ["orchestrate-plugin-partial"] }\n');
    const at = join(dir, 'node_modules', 'orchestrate-plugin-partial');
    await mkdir(at, { recursive: true });
    await writeFile(
      join(at, 'package.json'),
      JSON.stringify({ name: 'orchestrate-plugin-partial', type: 'module', exports: { './other': './other.js' } }),
    );
    const run = await orchestrateInProcess(['build'], { cwd: dir, store });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain(`error: ${file}: cannot load plugin 'orchestrate-plugin-partial': not found from '${dir}'`);
  });

  it('finds the config of a parent directory from a subdirectory (-C)', async () => {
    const { dir, store } = await tinyProject({ config: makeConfig({ name: 'from-sub' }) });
    await mkdir(join(dir, 'sub'));
    const run = await orchestrate(['restore', '--json', '-C', 'sub'], { cwd: dir, store });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json?.['reason']).toContain("project 'from-sub'");
    await rm(join(dir, 'sub'), { recursive: true });
  });
});
