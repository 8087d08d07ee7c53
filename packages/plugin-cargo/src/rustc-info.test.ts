import { describe, expect, it } from 'vitest';
import { canonicalRustcInfo } from './rustc-info.js';

const entry = (stdout: string): string => `{"success":true,"status":"","code":0,"stdout":${JSON.stringify(stdout)},"stderr":""}`;

describe('canonicalRustcInfo', () => {
  it('gives the same bytes for the two orders of a HashMap, and keeps the u64 fingerprint exact', () => {
    const a = `{"rustc_fingerprint":8668999387863862814,"outputs":{"17747080675513052775":${entry('rustc 1.95.0\n')},"7971740275564407648":${entry('___\n')}},"successes":{"9":true,"8":false}}`;
    const b = `{"rustc_fingerprint":8668999387863862814,"outputs":{"7971740275564407648":${entry('___\n')},"17747080675513052775":${entry('rustc 1.95.0\n')}},"successes":{"8":false,"9":true}}`;
    const canonical = canonicalRustcInfo(Buffer.from(a)).toString();
    expect(canonicalRustcInfo(Buffer.from(b)).toString()).toBe(canonical);
    expect(canonical.startsWith('{"rustc_fingerprint":8668999387863862814,"outputs":{"17747080675513052775":')).toBe(true);
    // The same content as a map (cargo reads it into one).
    const strip = (s: string): unknown => JSON.parse(s.replace(/"rustc_fingerprint":\d+/, '"rustc_fingerprint":0'));
    expect(strip(canonical)).toEqual(strip(a));
    // Sorted already: unchanged bytes.
    expect(canonicalRustcInfo(Buffer.from(canonical)).toString()).toBe(canonical);
  });

  it('returns what it cannot read as it is', () => {
    for (const text of ['', 'not json', '{"rustc_fingerprint":1,"outputs":', '{"outputs":{}}']) {
      expect(canonicalRustcInfo(Buffer.from(text)).toString()).toBe(text);
    }
  });
});
