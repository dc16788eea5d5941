// Write streamplug plugins in JavaScript.
//
// A plugin is an object with `handle(event)` (and optionally `init(config)`),
// exported with one line:
//
//   import * as sp from './streamplug/index.js';
//
//   export const handler = sp.plugin({
//     handle(event) {
//       const { product } = event.json();
//       const views = (sp.kv.getJson(`views:${product}`) ?? 0) + 1;
//       sp.kv.setJson(`views:${product}`, views);
//       sp.publish('product-stats', 'product.view_count', { product, views },
//                  { subject: event.subject });
//     },
//   });
//
// Throw `sp.Retry(reason)` for a transient failure (the event is delivered
// again with backoff) and `sp.Reject(reason)` for an event that can never be
// handled (it goes to the dead-letter topic). Host errors map to one or the
// other the way the Rust SDK maps them; any other exception is a trap: the
// event is retried on a fresh instance and the exception's stack reaches the
// dead-letter reason.
//
// Build with componentize-js against the gateway's `wit/` (`-d fetch-event`:
// a plugin exports the handler, not an HTTP server; `-d http`: no `fetch`,
// leave it out when the manifest grants `allowed_hosts`):
//
//   npx componentize-js --wit wit --world-name plugin -d http fetch-event -o plugin.wasm app.js

export * as command from './command.js';
export * as config from './config.js';
export * as journal from './journal.js';
export * as kv from './kv.js';
export * as log from './log.js';
export * as packed from './packed.js';
export * as timer from './timer.js';
export * as vocabulary from './vocabulary.js';
export { Event } from './event.js';
export { HostError, Reject, Retry, checkStatus } from './errors.js';
export { plugin } from './export.js';
export { publish } from './publish.js';
export { push } from './push.js';
export { optional, required } from './settings.js';
