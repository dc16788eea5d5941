// The plugin's config values (`[plugins.config]` of its manifest).
import * as wit from 'streamplug:plugin/config@0.1.0';

/** The value of `key`, or `fallback`. */
export function get(key, fallback = null) {
  return wit.get(key) ?? fallback;
}

/** Every configured key and value, as an object. */
export function getAll() {
  return Object.fromEntries(wit.getAll());
}
