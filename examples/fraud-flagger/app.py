"""Fraud and abuse flagger: watches a customer's orders and raises an
``order.flagged`` alert when an order looks risky.

Rules (thresholds from the plugin config):
- velocity: more than ``max_orders_per_hour`` orders within an hour;
- first order too large: a customer's first order above ``first_order_limit``;
- serial canceller: at least ``max_cancellations`` cancelled orders before.

State per customer in KV (``customer:<id>``): the times of recent orders,
how many orders and cancellations it had, in the SDK's packed encoding
(``sp.kv.set_packed``: rewritten on every order, and read by any SDK). A
customer with no order for ``forget_after_days`` (365) is forgotten: the
state is stored with that time to live, renewed with every order.

With ``notify_url`` set (the risk team's webhook, e.g. a Slack incoming
webhook), each flagged order is also posted there, once: the post is a
journal step, so a retried event does not post again, and it carries the
step's ``Idempotency-Key`` for a receiver that deduplicates.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

import streamplug as sp
from streamplug.vocabulary import OrderPlaced

HOUR = 3600.0


@dataclass
class Settings:
    """The manifest's ``[plugins.config]``, with its defaults."""

    max_orders_per_hour: int = 3
    first_order_limit: float = 500.0
    max_cancellations: int = 2
    alert_topic: str = "risk-alerts"
    notify_url: Optional[str] = None
    forget_after_days: float = 365.0


def seconds(time: str) -> float:
    """An RFC 3339 time as seconds since the epoch."""
    return datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp()


class FraudFlagger(sp.Plugin):
    Config = Settings

    def init(self, config: Settings) -> None:
        self.max_orders = config.max_orders_per_hour
        self.first_order_limit = config.first_order_limit
        self.max_cancellations = config.max_cancellations
        self.alert_topic = config.alert_topic
        self.notify_url = config.notify_url
        self.forget_after_ms = int(config.forget_after_days * 86_400_000)
        if self.forget_after_ms < 1:
            raise ValueError("forget_after_days must be positive")

    def handle(self, event: sp.Event) -> None:
        customer = event.subject or event.key
        if customer is None:
            return
        key = f"customer:{customer}"
        state = sp.kv.get_packed(key) or {"recent": [], "orders": 0, "cancelled": 0}
        if event.type == "order.placed":
            self.order_placed(event, customer, state)
        elif event.type == "order.cancelled":
            state["cancelled"] += 1
        else:
            return
        sp.kv.set_packed(key, state, ttl_ms=self.forget_after_ms)

    def order_placed(self, event: sp.Event, customer: str, state: dict) -> None:
        order: OrderPlaced = event.json()
        now = seconds(event.time) if event.time else 0.0
        recent = [t for t in state["recent"] if now - t < HOUR] + [now]
        reasons = []
        if len(recent) > self.max_orders:
            reasons.append(f"{len(recent)} orders within an hour (limit {self.max_orders})")
        if state["orders"] == 0 and order["total"] > self.first_order_limit:
            reasons.append(
                f"first order of {order['total']:.2f} {order['currency']} "
                f"exceeds {self.first_order_limit:.2f}"
            )
        if state["cancelled"] >= self.max_cancellations:
            reasons.append(f"{state['cancelled']} cancelled orders before")
        state["recent"] = recent[-self.max_orders - 1:]
        state["orders"] += 1
        if not reasons:
            return
        alert = {
            "order": order["order"],
            "customer": customer,
            "total": order["total"],
            "currency": order["currency"],
            "reasons": reasons,
        }
        sp.publish(self.alert_topic, "order.flagged", alert, subject=customer)
        sp.log.warn(f"order {order['order']} of {customer} flagged: {'; '.join(reasons)}")
        if self.notify_url:
            sp.journal.run(f"notify:{order['order']}", lambda key: self.notify(alert, key))

    def notify(self, alert: dict, key: str) -> int:
        """Post ``alert`` to the risk team's webhook; the answer's status."""
        text = f"Order {alert['order']} of {alert['customer']} flagged: {'; '.join(alert['reasons'])}"
        answer = sp.http.post(
            self.notify_url,
            json={"text": text, **alert},
            headers={"Idempotency-Key": key},
        )
        return answer.raise_for_status().status


Handler = sp.export(FraudFlagger)
