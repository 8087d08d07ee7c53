/**
 * The scenario matrix on a generated make project with 200 units and shared
 * headers included by known subsets of them (examples/gen-many).
 */
import { execa } from 'execa';
import { appendFile, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCompilerLog, programOutput, scenarioHarness, setMtimeNs, tempDir } from '@orchestrate/core/testing';

const GENERATOR = resolve(import.meta.dirname, '../../../examples/gen-many/generate.mjs');
const UNITS = 200;

const template = join(await tempDir('orchestrate-many-'), 'many');
await execa(process.execPath, [GENERATOR, template, String(UNITS)]);
await writeFile(join(template, 'orchestrate.config.json'), JSON.stringify({ plugins: ['@orchestrate/plugin-make'] }));
const units = JSON.parse(await readFile(join(template, 'units.json'), 'utf8')) as { includes: Record<string, string[]> };
const includersOf = (header: string): string[] =>
  Object.entries(units.includes)
    .filter(([, headers]) => headers.includes(header))
    .map(([file]) => file)
    .sort();

const cc = await createCompilerLog(await tempDir('orchestrate-cc-'));
const harness = scenarioHarness({
  project: template,
  env: { CC: cc.path, ...cc.env, CPPFLAGS: '-Iinclude' },
  cleanBuild: async (dir, env) => {
    await execa('make', ['-j2'], { cwd: dir, env, stdin: 'ignore' });
  },
  resetUnits: cc.reset,
  units: cc.units,
});

async function expectEqualToClean(result: Awaited<ReturnType<typeof harness.run>>): Promise<void> {
  expect(await harness.diff(result)).toEqual([]);
  expect(await programOutput('./many', result.b)).toBe(await programOutput('./many', result.c));
}

describe(`a generated project with ${UNITS} units`, () => {
  beforeAll(async () => {
    const { run } = await harness.prepare();
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.report?.['mode']).toBe('full');
    expect((await cc.units()).length).toBe(UNITS + 1);
  });

  it('recompiles nothing when nothing changed', async () => {
    const result = await harness.run('none');
    expect(result.run.report?.['mode']).toBe('incremental');
    expect(result.units).toEqual([]);
    await expectEqualToClean(result);
  });

  it('recompiles exactly one edited unit', async () => {
    const result = await harness.run('edit', {
      change: async (dir) => {
        const file = join(dir, 'src/unit_042.c');
        await writeFile(file, (await readFile(file, 'utf8')).replace('GEN_SALT + 42u', 'GEN_SALT + 4242u'));
      },
    });
    expect(result.units).toEqual(['src/unit_042.c']);
    await expectEqualToClean(result);
  });

  it.each(['include/tens.h', 'include/third.h', 'include/even.h'])('recompiles exactly the includers of %s', async (header) => {
    const expected = includersOf(header);
    const result = await harness.run(`header-${header.replace(/\W/g, '_')}`, {
      change: async (dir) => {
        const file = join(dir, header);
        await writeFile(
          file,
          (await readFile(file, 'utf8')).replace(/BONUS (\d+)u/, (_m, n: string) => `BONUS ${Number(n) + 5}u`),
        );
      },
    });
    expect(result.units).toEqual(expected);
    await expectEqualToClean(result);
  });

  it('compiles an added unit, drops a deleted one, renames one', async () => {
    const result = await harness.run('add-delete-rename', {
      change: async (dir) => {
        await writeFile(join(dir, 'src/zz_extra.c'), 'unsigned zz_extra(void) { return 7u; }\n');
        // unit_199 is only called from main.c: delete it and its call.
        await rm(join(dir, 'src/unit_199.c'));
        const main = join(dir, 'src/main.c');
        await writeFile(main, (await readFile(main, 'utf8')).replace('    sum += unit_199();\n', ''));
        await rename(join(dir, 'src/unit_100.c'), join(dir, 'src/renamed_100.c'));
      },
    });
    expect(result.run.report).toMatchObject({
      mode: 'incremental',
      changes: { added: ['src/renamed_100.c', 'src/zz_extra.c'], removed: ['src/unit_100.c', 'src/unit_199.c'], modified: ['src/main.c'] },
    });
    expect(result.units).toEqual(['src/main.c', 'src/renamed_100.c', 'src/zz_extra.c']);
    await expectEqualToClean(result);
  });

  it('rebuilds an edited unit whose mtime is older than the checkpoint', async () => {
    const result = await harness.run('old-mtime', {
      change: async (dir) => {
        const file = join(dir, 'src/unit_007.c');
        await writeFile(file, (await readFile(file, 'utf8')).replace('GEN_SALT + 7u', 'GEN_SALT + 77u'));
        await setMtimeNs(file, 946_684_800_000_000_000n);
      },
    });
    expect(result.units).toEqual(['src/unit_007.c']);
    await expectEqualToClean(result);
  });

  it('builds in full, saying why, when the Makefile changed', async () => {
    const result = await harness.run('makefile', {
      change: async (dir) => appendFile(join(dir, 'Makefile'), '\n# edited\n'),
    });
    expect(result.run.report).toMatchObject({ mode: 'full' });
    expect(result.run.report?.['reason']).toMatch(/'Makefile' changed/);
    expect(result.units.length).toBe(UNITS + 1);
    await expectEqualToClean(result);
  });

  it('rebuilds everything, and only once, when the header every unit includes changes', async () => {
    const result = await harness.run('common', {
      change: async (dir) => appendFile(join(dir, 'include/common.h'), '\n/* touched */\n'),
    });
    expect(result.units).toEqual(includersOf('include/common.h'));
    expect(result.units.length).toBe(UNITS + 1);
    await expectEqualToClean(result);
  });
});
