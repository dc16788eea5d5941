//! {{name}}: counts how often each product is viewed and publishes the count.

use serde::Deserialize;
use streamplug_sdk::{Event, HandleError, Plugin, kv, publish};

#[derive(Deserialize)]
struct Viewed {
    product: String,
}

struct ViewCounter;

impl Plugin for ViewCounter {
    fn handle(event: Event) -> Result<(), HandleError> {
        // Data that does not parse rejects the event to the dead-letter topic.
        let viewed: Viewed = event.json()?;
        let key = format!("views:{}", viewed.product);
        let views = kv::get_json::<u64>(&key)?.unwrap_or(0) + 1;
        kv::set_json(&key, &views)?;
        publish::to("product-stats", "product.view_count")
            .subject(event.subject().unwrap_or_default())
            .json(&serde_json::json!({ "product": viewed.product, "views": views }))?
            .send()?;
        streamplug_sdk::debug!("{} viewed {views} times", viewed.product);
        Ok(())
    }
}

streamplug_sdk::export_plugin!(ViewCounter);
