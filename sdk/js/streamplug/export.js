// Turns a plugin object into the `handler` export componentize-js wants.
import { Event } from './event.js';
import { HostError, Reject, Retry } from './errors.js';
import * as log from './log.js';
import { parse } from './settings.js';

/** The `handler` export of the component:
 * `export const handler = plugin({ init(config) {...}, async handle(event) {...} })`.
 *
 * `config` (optional) is the shape of the plugin's configuration, its
 * defaults and kinds (see `settings.js`); `init(config)` (optional) gets the
 * manifest's config values read into it, or as an object of strings without
 * one. A value that does not fit the shape, or `init` throwing, refuses the
 * instance (and, at load time, the version).
 * `handle(event)` gets an `Event` and may be async (to `await fetch(...)`).
 * Throw `Retry` or `Reject` to say the event was not handled; an uncaught
 * `HostError` retries or rejects it the way the Rust SDK maps host errors;
 * anything else is a bug: its stack is logged as an error (so it reaches the
 * dead-letter reason) and the instance traps. */
export function plugin(impl) {
  if (typeof impl.handle !== 'function') {
    throw new TypeError('a plugin has a handle(event) function');
  }
  return {
    init(config) {
      try {
        const values = Object.fromEntries(config);
        impl.init?.(impl.config ? parse(impl.config, values) : values);
      } catch (e) {
        // A string is the `err` of `result<_, string>`.
        throw `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
      }
    },
    async handle(event) {
      try {
        await impl.handle(new Event(event));
      } catch (e) {
        throw asHandleError(e);
      }
    },
  };
}

// The WIT `handle-error` for an exception the handler threw; rethrows (traps)
// for anything that is not a way of saying "not handled".
function asHandleError(e) {
  if (e instanceof Retry) return { tag: 'retry', val: e.message };
  if (e instanceof Reject) return { tag: 'reject', val: e.message };
  if (e instanceof HostError) return { tag: e.retry ? 'retry' : 'reject', val: e.message };
  log.error(e instanceof Error ? `uncaught ${e.stack ? `${e}\n${e.stack}` : e}` : `uncaught ${e}`);
  throw e;
}
