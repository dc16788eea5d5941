// The plugin's own key-value store. Writes are staged and applied with the
// event's offset when `handle` returns; reads see the plugin's own staged
// writes.
import * as wit from 'streamplug:plugin/kv@0.1.0';
import { hostCall } from './errors.js';
import * as packed from './packed.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The value under `key` (a Uint8Array), or `null`. */
export function get(key) {
  return hostCall(`kv get '${key}'`, 'kv-error', () => wit.get(key)) ?? null;
}

/**
 * The values under each of `keys` (Uint8Arrays, `null` where a key has
 * none), in their order: one host call for the several keys a handler reads
 * an event (at most 1024), instead of one each.
 */
export function getMany(keys) {
  return hostCall(`kv get-many (${keys.length} keys)`, 'kv-error', () => wit.getMany([...keys]))
    .map((value) => value ?? null);
}

/**
 * Store `value` (bytes or a string) under `key`. With `{ ttlMs }` (at least
 * 1) it reads as absent after that many milliseconds and leaves the quota.
 */
export function set(key, value, { ttlMs } = {}) {
  const bytes = typeof value === 'string' ? encoder.encode(value) : value;
  if (ttlMs === undefined || ttlMs === null) {
    hostCall(`kv set '${key}'`, 'kv-error', () => wit.set(key, bytes));
  } else {
    hostCall(`kv set '${key}'`, 'kv-error', () => wit.setWithTtl(key, bytes, BigInt(Math.ceil(ttlMs))));
  }
}

/** Remove `key` (a missing key is not an error). */
function remove(key) {
  hostCall(`kv delete '${key}'`, 'kv-error', () => wit.delete(key));
}
export { remove as delete };

/** Keys starting with `prefix`, in byte order, at most `limit`. */
export function listKeys(prefix, limit = 100) {
  return hostCall(`kv list '${prefix}'`, 'kv-error', () => wit.listKeys(prefix, limit));
}

/** The JSON value under `key`, or `null`. */
export function getJson(key) {
  const value = get(key);
  return value === null ? null : JSON.parse(decoder.decode(value));
}

/** Store `value` as JSON under `key` (`{ ttlMs }` as for `set`). */
export function setJson(key, value, options = {}) {
  set(key, JSON.stringify(value), options);
}

/** The value under `key` stored with `setPacked` (or, from an earlier
 * version, with `setJson`), or `null`. Bytes that are neither throw
 * `packed.PackError` (a `Reject`). */
export function getPacked(key) {
  const value = get(key);
  return value === null ? null : packed.decode(value);
}

/** Store `value` under `key` in the packed encoding (`packed.js`): smaller
 * and cheaper than JSON for state rewritten on every event, and the same
 * bytes the Rust and Python SDKs write (`{ ttlMs }` as for `set`). */
export function setPacked(key, value, options = {}) {
  set(key, packed.encode(value), options);
}
