"""{{name}}: counts how often each product is viewed and publishes the count."""

import streamplug as sp


class ViewCounter(sp.Plugin):
    def handle(self, event: sp.Event) -> None:
        # Data that is not JSON rejects the event to the dead-letter topic.
        product = event.json()["product"]
        views = (sp.kv.get_json(f"views:{product}") or 0) + 1
        sp.kv.set_json(f"views:{product}", views)
        sp.publish(
            "product-stats",
            "product.view_count",
            {"product": product, "views": views},
            subject=event.subject,
        )
        sp.log.debug(f"{product} viewed {views} times")


Handler = sp.export(ViewCounter)
