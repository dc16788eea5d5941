// {{name}}: counts how often each product is viewed and publishes the count.
import * as sp from './streamplug/index.js';

let topic;

export const handler = sp.plugin({
  // `[plugins.config]` in the manifest: each key with its default (whose
  // type says how the text is read); an unknown key refuses the plugin.
  config: {
    // Where the counts are published (grant it in `publish`).
    topic: 'product-stats',
  },

  init(config) {
    topic = config.topic;
  },

  handle(event) {
    // The data as the vocabulary's `ProductViewed` (`streamplug schemas
    // codegen`, typed for editors and `tsc --checkJs`); data that is not
    // JSON, or lacks a field the type requires, rejects the event to the
    // dead-letter topic.
    const { product } = event.typed('product.viewed');
    const views = (sp.kv.getJson(`views:${product}`) ?? 0) + 1;
    sp.kv.setJson(`views:${product}`, views);
    sp.publish(topic, 'product.view_count', { product, views }, { subject: event.subject });
    sp.log.debug(`${product} viewed ${views} times`);
  },
});
