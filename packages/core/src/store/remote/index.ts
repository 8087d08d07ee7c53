/** Remote checkpoint stores: the interface the layered store calls, and its two implementations. */
export * from './remote-store.js';
export { openRemoteStore } from './open-remote.js';
export { OciStore, parseOciUrl, CHECKPOINT_ARTIFACT_TYPE, type OciStoreOptions } from './oci-store.js';
export { HttpCacheStore } from './http-cache-store.js';
export { resolveScope, trustedScopes, readableScopes, isValidScope, DEFAULT_BRANCH, type ResolvedScope } from './scope.js';
export {
  loadKeys,
  parsePrivateKey,
  parsePublicKeys,
  publicKeyBase64,
  keyId,
  signCheckpoint,
  checkSignature,
  type CheckpointSignature,
} from './signature.js';
export { preferredCompression, type Compression } from './compression.js';
