/**
 * Makes a remote store from its URL: `oci://` and `oci+http://` for an OCI
 * registry, `http://` and `https://` for a Bazel-style HTTP cache.
 */
import { HttpCacheStore } from './http-cache-store.js';
import { OciStore, type OciStoreOptions } from './oci-store.js';
import type { RemoteStore } from './remote-store.js';

/** Opens the remote `url` names; throws an Error naming the URL when it is not one. Nothing is sent yet. */
export function openRemoteStore(url: string, options: OciStoreOptions = {}): RemoteStore {
  if (/^oci(\+http)?:\/\//.test(url)) return new OciStore(url, options);
  if (/^https?:\/\//.test(url)) return new HttpCacheStore(url, options);
  throw new Error(
    `'${url}' is not a remote store URL: expected oci://host/repository, oci+http://host/repository or http(s)://host/prefix`,
  );
}
