// How a handler says an event was not handled, and how host errors map to
// that: retry for what may pass (an unreachable store), reject for what
// never will (a topic not granted, a full quota, a malformed event).

/** A transient failure: deliver the event again later, with backoff, up to
 * the manifest's `max_attempts`; then dead-letter it. */
export class Retry extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Retry';
  }
}

/** The event can never be handled: send it to the dead-letter topic now. */
export class Reject extends Error {
  constructor(reason) {
    super(reason);
    this.name = 'Reject';
  }
}

// WIT error cases whose failure may pass on a later attempt.
const TRANSIENT = new Set(['unavailable', 'other']);

/** A host call failed. `kind` names the WIT error case (`quota-exceeded`,
 * `topic-not-granted`, ...); `retry` tells whether trying the event again
 * may succeed. Uncaught, it retries or rejects the event accordingly. */
export class HostError extends Error {
  constructor(what, kind, detail) {
    super(`${what}: ${kind}: ${detail}`);
    this.name = 'HostError';
    this.kind = kind;
    this.detail = detail;
    this.retry = TRANSIENT.has(kind);
  }
}

/** Calls `f` and turns the error value of a failed host call (thrown by the
 * bindings with the WIT variant in `payload`) into a HostError. */
export function hostCall(what, f) {
  try {
    return f();
  } catch (e) {
    if (e && e.payload && typeof e.payload.tag === 'string') {
      throw new HostError(what, e.payload.tag, e.payload.val);
    }
    throw e;
  }
}
