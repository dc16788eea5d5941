//! {{name}}: counts how often each product is viewed and publishes the count.

use serde::Deserialize;
// The vocabulary's event data as types (`streamplug schemas codegen`).
use streamplug_sdk::vocabulary::ProductViewed;
use streamplug_sdk::{Event, HandleError, Plugin, kv, publish};

/// `[plugins.config]` in the manifest: each key a field, parsed from its
/// text; a missing key takes the default, an unknown one refuses the plugin.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    /// Where the counts are published (grant it in `publish_topics`).
    topic: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            topic: "product-stats".into(),
        }
    }
}

/// Built once per instance from its settings; what must last across
/// events and instances goes to KV.
struct ViewCounter {
    topic: String,
}

impl Plugin for ViewCounter {
    type Config = Settings;

    fn init(settings: Settings) -> Result<Self, String> {
        Ok(Self {
            topic: settings.topic,
        })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        // Data that does not parse rejects the event to the dead-letter topic.
        let viewed: ProductViewed = event.json()?;
        let key = format!("views:{}", viewed.product);
        let views = kv::get_json::<u64>(&key)?.unwrap_or(0) + 1;
        kv::set_json(&key, &views)?;
        publish::to(&self.topic, "product.view_count")
            .subject(event.subject().unwrap_or_default())
            .json(&serde_json::json!({ "product": viewed.product, "views": views }))?
            .send()?;
        streamplug_sdk::debug!("{} viewed {views} times", viewed.product);
        Ok(())
    }
}

streamplug_sdk::export_plugin!(ViewCounter);
