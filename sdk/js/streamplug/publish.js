// Publish events to topics the manifest grants. Publishes are staged and
// written with the event's offset when `handle` returns.
import { publish as witPublish } from 'streamplug:plugin/producer@0.1.0';
import { hostCall } from './errors.js';

const encoder = new TextEncoder();

/** The bytes of `data`: a Uint8Array as it is, anything else as JSON. */
export function payload(data) {
  return data instanceof Uint8Array ? data : encoder.encode(JSON.stringify(data));
}

/** Stage an event of `type` on `topic`; `data` is sent as JSON unless it is
 * a Uint8Array. Options: `subject`, `key`, `contentType`, `headers` (pairs).
 * Returns the id the event will carry. */
export function publish(topic, type, data, options = {}) {
  const { subject, key, contentType, headers = [] } = options;
  return hostCall(`publish to '${topic}'`, 'publish-error', () =>
    witPublish({
      topic,
      type,
      subject: subject ?? undefined,
      key: key ?? undefined,
      contentType: contentType ?? undefined,
      data: payload(data),
      headers,
    }),
  );
}
