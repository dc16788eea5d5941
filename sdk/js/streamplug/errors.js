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

// Which host errors may pass on a later attempt: the table of
// sdk/host-errors.json (the Rust and Python SDKs follow the same one; a test
// holds all three to it). The WIT error cases that retry, by variant:
export const RETRY_CASES = {
  'kv-error': ['unavailable', 'other'],
  'journal-error': ['unavailable'],
  'publish-error': ['other'],
  'push-error': ['other'],
  'timer-error': ['too-many', 'unavailable'],
};

/** Whether WIT error `kase` of `variant` (`kv-error`, `quota-exceeded`)
 * retries the event. */
export function retries(variant, kase) {
  return (RETRY_CASES[variant] ?? []).includes(kase);
}

/** Whether an outbound response with a non-2xx `status` retries the event:
 * 429 and 5xx. */
export function statusRetries(status) {
  return status === 429 || status >= 500;
}

/** A host call failed. `kind` names the WIT error case (`quota-exceeded`,
 * `topic-not-granted`, ...); `retry` tells whether trying the event again
 * may succeed. Uncaught, it retries or rejects the event accordingly. */
export class HostError extends Error {
  constructor(what, kind, detail, retry) {
    super(`${what}: ${kind}: ${detail}`);
    this.name = 'HostError';
    this.kind = kind;
    this.detail = detail;
    this.retry = retry;
  }
}

/** Calls `f` and turns the error value of a failed host call (thrown by the
 * bindings with the case of WIT variant `variant` in `payload`) into a
 * HostError. */
export function hostCall(what, variant, f) {
  try {
    return f();
  } catch (e) {
    if (e && e.payload && typeof e.payload.tag === 'string') {
      throw new HostError(what, e.payload.tag, e.payload.val, retries(variant, e.payload.tag));
    }
    throw e;
  }
}

/** `response` (a `fetch` answer) if it is 2xx; otherwise throws the
 * HostError that retries the event for 429 and 5xx and rejects it for any
 * other status. */
export async function checkStatus(response, what = `${response.url}`) {
  if (response.ok) return response;
  const detail = (await response.text()).slice(0, 200);
  throw new HostError(what, `status-${response.status}`, detail, statusRetries(response.status));
}
