// Push messages to a customer's live WebSocket sessions (through the push
// log, so sessions that resume later get them too).
import { toCustomer } from 'streamplug:plugin/push@0.1.0';
import { hostCall } from './errors.js';
import { payload } from './publish.js';

/** Stage a push of `messageType` with `data` (JSON) on `channel` to every
 * session of `customer`. */
export function push(customer, channel, messageType, data) {
  hostCall(`push to '${customer}' on '${channel}'`, 'push-error', () =>
    toCustomer(customer, channel, messageType, payload(data)),
  );
}
