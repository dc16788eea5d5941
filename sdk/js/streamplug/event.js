import { Reject } from './errors.js';
import { EVENT_TYPES } from './vocabulary.js';

const decoder = new TextDecoder();

/** One event, as the gateway delivers it: CloudEvents attributes, the data
 * bytes, extension headers, and its position in the log. */
export class Event {
  constructor(wit) {
    this.id = wit.id;
    this.source = wit.source;
    this.type = wit.type;
    /** The customer the event is about, or `null`. */
    this.subject = wit.subject ?? null;
    /** RFC 3339 time of the occurrence, or `null`. */
    this.time = wit.time ?? null;
    this.topic = wit.topic;
    this.key = wit.key ?? null;
    this.contentType = wit.contentType ?? null;
    /** The payload bytes (a Uint8Array). */
    this.data = wit.data;
    /** Extension attributes as `[name, value]` pairs. */
    this.headers = wit.headers;
    this.partition = wit.partition;
    /** Offset in the partition (a BigInt). */
    this.offset = wit.offset;
  }

  /** The extension attribute `name`, or `null`. */
  header(name) {
    const found = this.headers.find(([key]) => key === name);
    return found ? found[1] : null;
  }

  /** The name of the timer this event is, if it is a fired timer
   * (`sp.timer`), else `null`. */
  timerName() {
    return this.type === 'streamplug.timer' ? this.header('timername') : null;
  }

  /** The data as text. */
  text() {
    return decoder.decode(this.data);
  }

  /** The data parsed as JSON; data that is not JSON rejects the event (it
   * can never be handled). */
  json() {
    try {
      return JSON.parse(this.text());
    } catch (e) {
      throw new Reject(`invalid JSON: ${e.message}`);
    }
  }

  /** The data as its type in the vocabulary this plugin was built with
   * (`EventData[event.type]` of vocabulary.d.ts): parsed JSON holding every
   * field the type requires. Data without one rejects the event, naming the
   * field (the gateway's schema for the type is not the one this plugin was
   * built with), as serde would for a Rust plugin. The data of a type the
   * vocabulary does not know is returned as parsed.
   * @template {keyof import('./vocabulary').EventData} T
   * @param {T} [_type] the type expected, for editors and `tsc` only
   * @returns {import('./vocabulary').EventData[T]} */
  typed(_type) {
    const data = this.json();
    const known = EVENT_TYPES[this.type];
    if (known === undefined) return data;
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      throw new Reject(`${this.type}: data is not an object, as ${known.name} is`);
    }
    const missing = known.required.find((field) => !Object.hasOwn(data, field));
    if (missing !== undefined) {
      throw new Reject(`${this.type}: data has no \`${missing}\`, which ${known.name} requires`);
    }
    return data;
  }

  /** The time as milliseconds since the epoch, or `null`. */
  timeMillis() {
    return this.time === null ? null : Date.parse(this.time);
  }
}
