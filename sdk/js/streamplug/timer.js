// Durable timers: wake the plugin later for the key of the event it is
// handling ("if no payment within 15 minutes"). When a timer is due, the
// handler gets an event of type `streamplug.timer` for that key, whose
// `timerName()` is the timer's name and whose data is the payload.
// Scheduling and cancelling take effect with the event's other effects, and
// not at all if the handler fails; a timer fires once with the effects of
// handling it, after restarts and hot swaps.
import { cancel as witCancel, schedule as witSchedule } from 'streamplug:plugin/timer@0.1.0';
import { hostCall } from './errors.js';

/** The type of a fired timer's event. */
export const TYPE = 'streamplug.timer';

const encoder = new TextEncoder();

/** Schedule timer `name` for the key of the event being handled, due in
 * `afterMs` milliseconds, with `payload` (a Uint8Array) as its event's data;
 * a pending timer of that name and key is replaced. */
export function schedule(name, afterMs, payload = new Uint8Array()) {
  hostCall('schedule a timer', 'timer-error', () => witSchedule(name, BigInt(afterMs), payload));
}

/** `schedule` with `payload` as JSON. */
export function scheduleJson(name, afterMs, payload) {
  schedule(name, afterMs, encoder.encode(JSON.stringify(payload)));
}

/** Cancel timer `name` of the key of the event being handled; whether one
 * was pending. */
export function cancel(name) {
  return hostCall('cancel a timer', 'timer-error', () => witCancel(name));
}
