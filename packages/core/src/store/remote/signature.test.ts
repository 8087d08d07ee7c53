import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { checkSignature, keyId, loadKeys, parsePrivateKey, publicKeyBase64, signCheckpoint } from './signature.js';

const id = 'c'.repeat(64);

describe('checkpoint signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  test('a signature by a configured key for the scope passes', () => {
    expect(checkSignature([publicKey], id, 'main', signCheckpoint(privateKey, id, 'main'))).toBeUndefined();
  });
  test('a signature for another scope or another manifest does not', () => {
    const signature = signCheckpoint(privateKey, id, 'pr-1');
    expect(checkSignature([publicKey], id, 'main', signature)).toMatch(/does not match/);
    expect(checkSignature([publicKey], 'd'.repeat(64), 'pr-1', signature)).toMatch(/does not match/);
  });
  test('unsigned, or signed by an unknown key, is refused with the reason', () => {
    const other = generateKeyPairSync('ed25519');
    expect(checkSignature([publicKey], id, 'main', undefined)).toMatch(/unsigned/);
    expect(checkSignature([publicKey], id, 'main', signCheckpoint(other.privateKey, id, 'main'))).toMatch(
      /not a configured verification key/,
    );
  });
  test('keys load from PEM or base64 in the environment', () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keys = loadKeys({
      ORCHESTRATE_SIGNING_KEY: pem,
      ORCHESTRATE_VERIFY_KEYS: `${publicKeyBase64(publicKey)}, ${publicKeyBase64(generateKeyPairSync('ed25519').publicKey)}`,
    });
    expect(keyId(keys.signingKey!)).toBe(keyId(publicKey));
    expect(keys.verifyKeys.map(keyId)).toContain(keyId(publicKey));
    expect(keys.verifyKeys).toHaveLength(2);
    const seed = privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32).toString('base64');
    expect(keyId(parsePrivateKey(seed))).toBe(keyId(publicKey));
  });
  test('a key of another type is refused', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => parsePrivateKey(rsa)).toThrow(/expected ed25519/);
  });
});
