// Cart-abandonment nudger: remembers each customer's cart and, when the
// customer comes back after leaving it alone for a while, reminds them of it
// on their live sessions (a `cart.reminder` push) and records a
// `cart.abandoned` event for the dashboards and the CRM.
//
// Events (clock: the events' own time, so replays nudge the same way):
// - cart.item_added / cart.item_removed: the cart changes; a new reminder may
//   follow later;
// - order.placed: the cart became an order, nothing to remind of;
// - page.viewed / product.viewed: the customer is back; if the cart has been
//   idle for `idle_minutes` and was not yet reminded of, nudge.
//
// State per customer in KV (`cart:<id>`): the items with quantity and price,
// when the cart last changed, and whether its reminder went out, in the SDK's
// packed encoding (`sp.kv.setPacked`: rewritten on every change). A cart nobody
// touches for `cart_ttl_days` (30) is forgotten: it is stored with that time
// to live, renewed with every change.
import * as sp from '../../sdk/js/streamplug/index.js';

const MINUTE = 60_000;

let settings;

function customerOf(event) {
  return event.subject ?? event.key;
}

function total(items) {
  return Object.values(items).reduce((sum, i) => sum + i.quantity * (i.price ?? 0), 0);
}

function changeCart(key, cart, event) {
  // The vocabulary's CartItemAdded or CartItemRemoved: data without a
  // `product` is rejected, naming it.
  const { product, quantity, price } = event.typed();
  const item = cart.items[product] ?? { quantity: 0, price: null };
  if (event.type === 'cart.item_added') {
    item.quantity += quantity ?? 1;
    item.price = price ?? item.price;
  } else {
    item.quantity = quantity ? Math.max(0, item.quantity - quantity) : 0;
  }
  if (item.quantity > 0) cart.items[product] = item;
  else delete cart.items[product];
  if (Object.keys(cart.items).length === 0) {
    sp.kv.delete(key);
    return;
  }
  cart.updated = event.timeMillis();
  cart.reminded = false;
  sp.kv.setPacked(key, cart, { ttlMs: settings.cartTtlMs });
}

function remindIfIdle(key, cart, event, customer) {
  const idleFor = event.timeMillis() - cart.updated;
  if (cart.reminded || idleFor < settings.idleMinutes * MINUTE) return;
  const items = Object.entries(cart.items).map(([product, i]) => ({ product, ...i }));
  const value = Math.round(total(cart.items) * 100) / 100;
  const idleMinutes = Math.floor(idleFor / MINUTE);
  sp.push(customer, settings.channel, 'cart.reminder', {
    text: `You left ${items.length} item${items.length === 1 ? '' : 's'} in your cart`,
    items,
    total: value,
  });
  sp.publish(settings.topic, 'cart.abandoned', { customer, items, total: value, idle_minutes: idleMinutes }, { subject: customer });
  sp.log.info(`reminded ${customer} of a cart of ${value} idle for ${idleMinutes} min`);
  cart.reminded = true;
  sp.kv.setPacked(key, cart, { ttlMs: settings.cartTtlMs });
}

export const handler = sp.plugin({
  // The manifest's `[plugins.config]`: its keys, their defaults and kinds.
  config: {
    idle_minutes: 30,
    channel: 'notifications',
    topic: 'engagement-events',
    cart_ttl_days: 30,
  },

  init(config) {
    if (!(config.idle_minutes > 0)) throw new Error(`idle_minutes must be positive, not ${config.idle_minutes}`);
    if (!(config.cart_ttl_days > 0)) throw new Error(`cart_ttl_days must be positive, not ${config.cart_ttl_days}`);
    settings = {
      idleMinutes: config.idle_minutes,
      channel: config.channel,
      topic: config.topic,
      cartTtlMs: config.cart_ttl_days * 24 * 60 * MINUTE,
    };
  },

  handle(event) {
    const customer = customerOf(event);
    if (customer === null || event.time === null) return;
    const key = `cart:${customer}`;
    const cart = sp.kv.getPacked(key) ?? { items: {}, updated: 0, reminded: false };
    switch (event.type) {
      case 'cart.item_added':
      case 'cart.item_removed':
        changeCart(key, cart, event);
        break;
      case 'order.placed':
        sp.kv.delete(key);
        break;
      case 'page.viewed':
      case 'product.viewed':
        if (Object.keys(cart.items).length > 0) remindIfIdle(key, cart, event, customer);
        break;
    }
  },
});
