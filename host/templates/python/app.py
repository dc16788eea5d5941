"""{{name}}: counts how often each product is viewed and publishes the count."""

from dataclasses import dataclass

import streamplug as sp
from streamplug.vocabulary import ProductViewed


@dataclass
class Settings:
    """``[plugins.config]`` in the manifest: each key a field, parsed from its
    text; a missing key takes the default, an unknown one refuses the plugin."""

    # Where the counts are published (grant it in ``publish``).
    topic: str = "product-stats"


class ViewCounter(sp.Plugin):
    Config = Settings

    def init(self, config: Settings) -> None:
        self.topic = config.topic

    def handle(self, event: sp.Event) -> None:
        # Data that is not JSON rejects the event to the dead-letter topic;
        # its type is the vocabulary's (`streamplug schemas codegen`).
        viewed: ProductViewed = event.json()
        product = viewed["product"]
        views = (sp.kv.get_json(f"views:{product}") or 0) + 1
        sp.kv.set_json(f"views:{product}", views)
        sp.publish(
            self.topic,
            "product.view_count",
            {"product": product, "views": views},
            subject=event.subject,
        )
        sp.log.debug(f"{product} viewed {views} times")


Handler = sp.export(ViewCounter)
