// Effectively-once side effects: run an outbound call as a named *step* of
// the event being handled; a retried or redelivered event gets the recorded
// result instead of calling again:
//
//   const id = await sp.journal.run(`sms:${order}`, async (key) => sendSms({ messageId: key }));
//
// `key` is the step's idempotency key (a UUID, the same on every attempt):
// send it to providers that take one. Results are recorded as JSON, durably,
// as soon as the call returns; a call that throws records nothing and runs
// again on the next attempt. Name each step uniquely within the event.
import * as wit from 'streamplug:plugin/journal@0.1.0';
import { hostCall } from './errors.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The idempotency key of `step` of the event being handled. */
export function idempotencyKey(step) {
  return hostCall(`journal key '${step}'`, 'journal-error', () => wit.idempotencyKey(step));
}

/** The JSON result an earlier attempt recorded for `step`, or `undefined`. */
export function recorded(step) {
  const value = hostCall(`journal read '${step}'`, 'journal-error', () => wit.recorded(step));
  return value == null ? undefined : JSON.parse(decoder.decode(value));
}

/** Record `value` (JSON) as the result of `step`, durably, now. */
export function record(step, value) {
  hostCall(`journal record '${step}'`, 'journal-error', () => wit.record(step, encoder.encode(JSON.stringify(value))));
}

/** Run `call(idempotencyKey)` as `step` once per event: the result an
 * earlier attempt recorded, or `call`'s, recorded before returning. An
 * async `call` (a `fetch`) gives a promise, recorded once it resolves:
 * `await sp.journal.run(step, async (key) => ...)`. */
export function run(step, call) {
  const done = recorded(step);
  if (done !== undefined) {
    return done;
  }
  const value = call(idempotencyKey(step));
  if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
    return value.then((resolved) => {
      record(step, resolved);
      return resolved;
    });
  }
  record(step, value);
  return value;
}
