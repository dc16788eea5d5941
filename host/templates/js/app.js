// {{name}}: counts how often each product is viewed and publishes the count.
import * as sp from './streamplug/index.js';

export const handler = sp.plugin({
  handle(event) {
    // Data that is not JSON rejects the event to the dead-letter topic.
    const { product } = event.json();
    const views = (sp.kv.getJson(`views:${product}`) ?? 0) + 1;
    sp.kv.setJson(`views:${product}`, views);
    sp.publish('product-stats', 'product.view_count', { product, views }, { subject: event.subject });
    sp.log.debug(`${product} viewed ${views} times`);
  },
});
