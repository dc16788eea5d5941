// Decide a command. A plugin that lists a command type in its manifest's
// `commands` is its one processor: returning from `handle` accepts it (the
// events published while handling it are the sender's answer); calling
// `refuseConflict` or `refuseInvalid` and then returning refuses it with a
// reason. A refused command's publishes and pushes are dropped and its KV
// writes kept.
import { refuse } from 'streamplug:plugin/command@0.1.0';
import { hostCall } from './errors.js';

/** Refuse the command being handled: it conflicts with the state it acts on
 * (the sender gets `409 Conflict` with `reason`). */
export function refuseConflict(reason) {
  hostCall('refuse the command', 'command-error', () => refuse('conflict', reason));
}

/** Refuse the command being handled: it is not acceptable as sent (the
 * sender gets `422 Unprocessable Content` with `reason`). */
export function refuseInvalid(reason) {
  hostCall('refuse the command', 'command-error', () => refuse('invalid', reason));
}
