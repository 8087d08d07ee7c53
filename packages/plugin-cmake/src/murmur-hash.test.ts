import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { formatNinjaHash, murmurHash64A, ninjaCommandHash } from './murmur-hash.js';

describe('murmurHash64A', () => {
  it('hashes strings as their UTF-8 bytes', () => {
    expect(murmurHash64A('héllo')).toBe(murmurHash64A(Buffer.from('héllo', 'utf8')));
  });

  it('hashes every tail length differently and deterministically', () => {
    const base = 'abcdefghijklmnopq';
    const hashes = new Set<bigint>();
    for (let len = 0; len <= base.length; len++) {
      const h = murmurHash64A(base.slice(0, len));
      expect(h).toBe(murmurHash64A(base.slice(0, len)));
      expect(h >= 0n && h < 1n << 64n).toBe(true);
      hashes.add(h);
    }
    expect(hashes.size).toBe(base.length + 1);
  });

  it('honours a subarray view without reading outside it', () => {
    const buf = Buffer.from('xxecho a.in > a.outyy');
    expect(murmurHash64A(buf.subarray(2, buf.length - 2))).toBe(murmurHash64A('echo a.in > a.out'));
  });
});

/** The algorithm in plain BigInt arithmetic, as in ninja's build_log.cc: the reference for the 32-bit implementation. */
function referenceMurmurHash64A(bytes: Uint8Array, seed = 0xdecafbaddecafbadn): bigint {
  const mask = (1n << 64n) - 1n;
  const m = 0xc6a4a7935bd1e995n;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = (seed ^ (BigInt(bytes.length) * m)) & mask;
  const blockEnd = bytes.length - (bytes.length % 8);
  for (let offset = 0; offset < blockEnd; offset += 8) {
    let k = (view.getBigUint64(offset, true) * m) & mask;
    k ^= k >> 47n;
    k = (k * m) & mask;
    h = ((h ^ k) * m) & mask;
  }
  const tail = bytes.length & 7;
  if (tail > 0) {
    for (let i = tail - 1; i >= 0; i--) h ^= BigInt(bytes[blockEnd + i] ?? 0) << BigInt(8 * i);
    h = (h * m) & mask;
  }
  h ^= h >> 47n;
  h = (h * m) & mask;
  return h ^ (h >> 47n);
}

describe('murmurHash64A in 32-bit halves', () => {
  it('equals the BigInt reference for every length up to 64 and for seeded random bytes, with any seed', () => {
    let state = 0x2545f491;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return state >>> 0;
    };
    for (let n = 0; n < 400; n++) {
      const length = n <= 64 ? n : next() % 2000;
      const bytes = Uint8Array.from({ length }, () => next() & 0xff);
      const seed = n % 3 === 0 ? (BigInt(next()) << 32n) | BigInt(next()) : 0xdecafbaddecafbadn;
      expect(murmurHash64A(bytes, seed)).toBe(referenceMurmurHash64A(bytes, seed));
    }
    // All bits set, where a carry in the limb arithmetic would go wrong first.
    const ones = new Uint8Array(24).fill(0xff);
    expect(murmurHash64A(ones, (1n << 64n) - 1n)).toBe(referenceMurmurHash64A(ones, (1n << 64n) - 1n));
  });
});

describe('formatNinjaHash', () => {
  it("writes lowercase hex without zero padding, like ninja's PRIx64", () => {
    expect(formatNinjaHash(0xabcn)).toBe('abc');
    expect(formatNinjaHash(0xffffffffffffffffn)).toBe('ffffffffffffffff');
  });
});

describe('ninjaCommandHash against a real ninja', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orchestrate-murmur-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('matches the hashes ninja writes into .ninja_log for commands of every tail length', async () => {
    // One edge per command length 1..40 so every `len & 7` tail and several block counts are covered,
    // plus a non-ASCII command.
    const commands: string[] = [];
    let manifest = 'rule run\n  command = $cmd\n';
    for (let n = 0; n < 40; n++) {
      const command = `: ${'x'.repeat(n)}`;
      commands.push(command);
      manifest += `build out${n}: run\n  cmd = ${command}\n`;
    }
    const unicode = ': héllo wörld ✓';
    commands.push(unicode);
    manifest += `build out40: run\n  cmd = ${unicode}\n`;
    writeFileSync(join(dir, 'build.ninja'), manifest);
    await execa('ninja', ['-C', dir]);

    const lines = readFileSync(join(dir, '.ninja_log'), 'utf8').trimEnd().split('\n').slice(1);
    const logged = new Map(
      lines.map((line) => {
        const fields = line.split('\t');
        return [fields[3], fields[4]] as const;
      }),
    );
    expect(logged.size).toBe(commands.length);
    commands.forEach((command, n) => {
      expect(ninjaCommandHash(command), command).toBe(logged.get(`out${n}`));
    });
  });

  it('writes hashes below 2^60 with fewer than 16 digits, as ninja does', async () => {
    const sub = join(dir, 'short');
    mkdirSync(sub);
    let manifest = 'rule run\n  command = $cmd\n';
    for (let n = 0; n < 200; n++) manifest += `build o${n}: run\n  cmd = : ${n}\n`;
    writeFileSync(join(sub, 'build.ninja'), manifest);
    await execa('ninja', ['-C', sub]);
    const entries = readFileSync(join(sub, '.ninja_log'), 'utf8')
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => line.split('\t'));
    const short = entries.filter((fields) => (fields[4] ?? '').length < 16);
    expect(short.length).toBeGreaterThan(0);
    for (const [, , , output, hash] of entries) {
      expect(ninjaCommandHash(`: ${(output ?? '').slice(1)}`)).toBe(hash);
    }
  });
});
