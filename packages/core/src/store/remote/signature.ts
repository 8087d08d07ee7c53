/**
 * Signatures of remote checkpoints: ed25519 through node's own crypto, over a
 * statement that binds the scope to the manifest's bytes:
 *
 *   orchestrate-checkpoint-signature-v1\n<scope>\n<sha256 of the manifest's bytes>\n
 *
 * A build configured with verification keys refuses a checkpoint that is
 * unsigned, signed by another key, or signed for another scope.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A signature as a remote stores it beside a checkpoint. */
export interface CheckpointSignature {
  /** {@link keyId} of the signing key. */
  readonly keyId: string;
  /** The ed25519 signature, base64. */
  readonly signature: string;
}

function statement(manifestId: string, scope: string): Buffer {
  return Buffer.from(`orchestrate-checkpoint-signature-v1\n${scope}\n${manifestId}\n`);
}

/** A short id of a public key: the first 16 hex digits of the SHA-256 of its SPKI DER. */
export function keyId(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

/** Signs checkpoint `manifestId` (SHA-256 of the manifest's bytes) for `scope`. */
export function signCheckpoint(key: KeyObject, manifestId: string, scope: string): CheckpointSignature {
  return { keyId: keyId(key), signature: sign(null, statement(manifestId, scope), key).toString('base64') };
}

/**
 * Checks a checkpoint's signature against `keys`: undefined when it is signed
 * by one of them for this scope, else the reason it is refused.
 */
export function checkSignature(
  keys: readonly KeyObject[],
  manifestId: string,
  scope: string,
  signature: CheckpointSignature | undefined,
): string | undefined {
  if (signature === undefined) return 'it is unsigned and verification keys are configured';
  const key = keys.find((candidate) => keyId(candidate) === signature.keyId);
  if (key === undefined) return `it is signed by key ${signature.keyId.slice(0, 16)}, which is not a configured verification key`;
  let ok = false;
  try {
    ok = verify(null, statement(manifestId, scope), key, Buffer.from(signature.signature, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? undefined : `its signature by key ${signature.keyId} does not match (wrongly signed, or for another scope)`;
}

function assertEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${what} is a ${key.asymmetricKeyType ?? key.type} key, expected ed25519`);
  return key;
}

/**
 * Parses a private key: PEM (PKCS#8, as `openssl genpkey -algorithm ed25519`
 * writes), or the base64 of its 32-byte seed.
 */
export function parsePrivateKey(text: string, what = 'the signing key'): KeyObject {
  const value = text.trim();
  if (value.includes('-----BEGIN')) return assertEd25519(createPrivateKey(value), what);
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== 32) throw new Error(`${what} is neither PEM nor the base64 of a 32-byte ed25519 seed`);
  // PKCS#8 prefix of an ed25519 private key, then the seed.
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), raw]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** Parses public keys: PEM blocks (SPKI), or base64 of 32-byte raw keys separated by commas, spaces or new lines. */
export function parsePublicKeys(text: string, what = 'the verification keys'): KeyObject[] {
  const pems = text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? [];
  const rest = text.replace(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g, ' ');
  const keys = pems.map((pem) => assertEd25519(createPublicKey(pem), what));
  for (const word of rest.split(/[\s,]+/).filter((w) => w !== '')) {
    const raw = Buffer.from(word, 'base64');
    if (raw.length !== 32)
      throw new Error(`${what}: '${word.slice(0, 20)}…' is neither PEM nor the base64 of a 32-byte ed25519 public key`);
    const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]);
    keys.push(createPublicKey({ key: der, format: 'der', type: 'spki' }));
  }
  return keys;
}

/** The raw 32-byte public key, base64: the short form `ORCHESTRATE_VERIFY_KEYS` takes. */
export function publicKeyBase64(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64');
}

/**
 * The signing key and verification keys of a build: `ORCHESTRATE_SIGNING_KEY`
 * (the key itself) or `ORCHESTRATE_SIGNING_KEY_FILE` or the config's
 * `signingKeyFile`; `ORCHESTRATE_VERIFY_KEYS` (keys themselves) and the
 * config's `verifyKeys` (keys, or files when they start with `/` or `.`).
 */
export function loadKeys(
  env: Readonly<Record<string, string | undefined>>,
  config: { signingKeyFile?: string | undefined; verifyKeys?: readonly string[] | undefined } = {},
): { signingKey: KeyObject | undefined; verifyKeys: KeyObject[] } {
  let signingKey: KeyObject | undefined;
  const inline = env['ORCHESTRATE_SIGNING_KEY'];
  const file = env['ORCHESTRATE_SIGNING_KEY_FILE'] ?? config.signingKeyFile;
  if (inline !== undefined && inline.trim() !== '') signingKey = parsePrivateKey(inline, 'ORCHESTRATE_SIGNING_KEY');
  else if (file !== undefined) signingKey = parsePrivateKey(readFileSync(file, 'utf8'), `signing key file '${file}'`);
  const verifyKeys: KeyObject[] = [];
  const fromEnv = env['ORCHESTRATE_VERIFY_KEYS'];
  if (fromEnv !== undefined && fromEnv.trim() !== '') verifyKeys.push(...parsePublicKeys(fromEnv, 'ORCHESTRATE_VERIFY_KEYS'));
  for (const entry of config.verifyKeys ?? []) {
    const isFile = entry.startsWith('/') || entry.startsWith('.');
    verifyKeys.push(
      ...parsePublicKeys(isFile ? readFileSync(entry, 'utf8') : entry, isFile ? `verification key file '${entry}'` : 'verifyKeys'),
    );
  }
  return { signingKey, verifyKeys };
}
