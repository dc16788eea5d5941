// Fixture: the JavaScript SDK's KV calls, driven by the event's data, for
// tests/integration/polyglot_kv.rs.
//
// - `"set": {K: V}`: store each text value under its key (`sp.kv.set`);
// - `"get_many": [K, ...]`: then read those keys in one call
//   (`sp.kv.getMany`) and store what came back as JSON under
//   `many:<event id>`: the values as text (`null` where none), or the host
//   error's kind (`invalid-key`, `other`).
import * as sp from '../../sdk/js/streamplug/index.js';

const decoder = new TextDecoder();

export const handler = sp.plugin({
  handle(event) {
    const data = event.json();
    for (const [key, value] of Object.entries(data.set ?? {})) {
      sp.kv.set(key, value);
    }
    if (!Array.isArray(data.get_many)) return;
    let result;
    try {
      result = sp.kv.getMany(data.get_many).map((v) => (v === null ? null : decoder.decode(v)));
    } catch (e) {
      if (!(e instanceof sp.HostError)) throw e;
      result = e.kind;
    }
    sp.kv.setJson(`many:${event.id}`, result);
  },
});
