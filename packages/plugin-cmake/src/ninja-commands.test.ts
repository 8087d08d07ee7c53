import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureAndBuild, copyExample, makeTempDir } from '../test/helpers/cmake-project.js';
import { latestNinjaLogEntries, parseNinjaLog, recomputeNinjaLogHashes } from './ninja-log.js';
import { NinjaCommandsMismatchError, readNinjaCommands, verifyNinjaManifest } from './ninja-commands.js';
import { parseNinjaManifest } from './ninja-manifest.js';
import { ninjaCommandHash } from './murmur-hash.js';

describe.each([
  { name: 'plain commands', args: [] as string[] },
  { name: 'response files forced', args: ['-DCMAKE_NINJA_FORCE_RESPONSE_FILE=ON'] },
])('readNinjaCommands on a CMake Ninja build ($name)', ({ args }) => {
  let dir: string;
  let buildDir: string;
  beforeAll(async () => {
    dir = makeTempDir('ninja-commands');
    copyExample(join(dir, 'src'));
    buildDir = join(dir, 'build');
    await configureAndBuild(join(dir, 'src'), buildDir, 'Ninja', args);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("agrees with ninja -t compdb and gives every logged output exactly ninja's own hash", async () => {
    const commands = await readNinjaCommands(buildDir);
    const log = parseNinjaLog(readFileSync(join(buildDir, '.ninja_log')));
    const entries = latestNinjaLogEntries(log);
    expect(entries.size).toBeGreaterThanOrEqual(6);
    for (const [output, entry] of entries) {
      const command = commands.get(output);
      expect(command, output).toBeDefined();
      expect(ninjaCommandHash(command ?? ''), output).toBe(entry.hash);
    }
    const { changed, missing } = recomputeNinjaLogHashes(log, commands);
    expect(changed).toEqual([]);
    expect(missing).toEqual([]);
  });

  it('includes the rspfile content exactly when the edge has one', async () => {
    const commands = await readNinjaCommands(buildDir);
    const link = commands.get('hello_app') ?? '';
    if (args.length > 0) {
      expect(link).toContain(';rspfile=');
      expect(link).toContain('CMakeFiles/hello_app.dir/app/main.cpp.o');
    } else {
      expect(link).not.toContain(';rspfile=');
    }
  });
});

describe('readNinjaCommands on hand-written manifests', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('ninja-manifest');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("follows ninja's scoping, escaping, canonicalization and rspfile rules", async () => {
    // Each edge writes its output, so ninja logs it and we can compare hashes.
    writeFileSync(
      join(dir, 'rules.ninja'),
      'rule touch\n  command = touch $out && : $flags $in $description\n  description = rule-desc $flags\n',
    );
    writeFileSync(
      join(dir, 'sub.ninja'),
      'flags = sub-scope\nbuild sub.out: touch in1\nbuild sub2.out: touch in1\n  flags = edge $flags\n',
    );
    writeFileSync(
      join(dir, 'build.ninja'),
      [
        'flags = top',
        'include rules.ninja',
        'subninja sub.ninja',
        'rule rsp',
        '  command = touch $out && : @$out.rsp',
        '  rspfile = $out.rsp',
        '  rspfile_content = $in_newline $flags',
        'build a.out: touch ./in1 dir/../in$ 2 | in1',
        'build b.out b.implicit $',
        '    | b.extra: touch in1 || in1',
        '  flags = edge-$flags',
        '  description = edge-desc',
        "build quote'd.out: touch in1",
        'build r.out: rsp in1 in$ 2',
        'build c.out: touch in1',
        '  flags = $$literal$:colon${flags}',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'in1'), '');
    writeFileSync(join(dir, 'in 2'), '');
    await execa('ninja', ['-C', dir]);

    const commands = await readNinjaCommands(dir);
    expect(commands.get('a.out')).toBe("touch a.out && : top in1 'in 2' rule-desc top");
    expect(commands.get('b.out')).toBe('touch b.out b.implicit && : edge-top in1 edge-desc');
    expect(commands.get('b.extra')).toBe(commands.get('b.out'));
    expect(commands.get('sub.out')).toBe('touch sub.out && : sub-scope in1 rule-desc sub-scope');
    expect(commands.get('sub2.out')).toBe('touch sub2.out && : edge sub-scope in1 rule-desc edge sub-scope');
    expect(commands.get("quote'd.out")).toBe("touch 'quote'\\''d.out' && : top in1 rule-desc top");
    expect(commands.get('r.out')).toBe("touch r.out && : @r.out.rsp;rspfile=in1\n'in 2' top");
    expect(commands.get('c.out')).toBe('touch c.out && : $literal:colontop in1 rule-desc $literal:colontop');

    const entries = latestNinjaLogEntries(parseNinjaLog(readFileSync(join(dir, '.ninja_log'))));
    expect(entries.size).toBe(commands.size);
    for (const [output, entry] of entries) {
      expect(ninjaCommandHash(commands.get(output) ?? ''), output).toBe(entry.hash);
    }
  });
});

describe('verifyNinjaManifest', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeTempDir('ninja-verify');
    writeFileSync(join(dir, 'build.ninja'), 'rule r\n  command = touch $out\nbuild o: r i\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects an evaluation that differs from ninja -t compdb, quoting both commands', async () => {
    const manifest = parseNinjaManifest('build.ninja', { cwd: dir });
    await expect(verifyNinjaManifest(dir, manifest)).resolves.toBeUndefined();
    const [edge] = manifest.edges;
    if (!edge) throw new Error('no edge');
    const wrong = {
      edges: [{ ...edge, outputs: edge.outputs, inputs: edge.inputs, getBinding: () => 'touch x', getUnescapedBinding: () => '' }],
    };
    await expect(verifyNinjaManifest(dir, wrong)).rejects.toThrow(NinjaCommandsMismatchError);
    await expect(verifyNinjaManifest(dir, wrong)).rejects.toThrow(/ninja: "touch o"/);
  });
});
