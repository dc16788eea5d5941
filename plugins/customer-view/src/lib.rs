//! customer-view: one live view per customer, kept from every event about
//! it (profile and consent, cart, recent views, orders with their status
//! and payment, support, messages sent and delivered, lifetime value;
//! [`view`]). The topics it reads are keyed by the customer, so one worker
//! owns each view and folds its events in order.
//!
//! - KV `view:<customer>` holds the view, packed (`kv::set_packed`; a view
//!   an earlier version stored as JSON still reads); it changes only when
//!   an event changes it.
//! - Query `view/<customer>`: the view (the customer itself, or staff and
//!   keys with the scope `query:customer-view`).
//! - Each change is pushed to the customer's sessions as `customer.view`
//!   on `push_channel` (`view`; empty: no pushes).

pub mod view;

use serde::Deserialize;
use streamplug_sdk::query::{self, Query, QueryError};
use streamplug_sdk::{Event, HandleError, Plugin, kv, push};

use view::CustomerView;

/// The plugin's `[plugins.config]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The channel each changed view is pushed on; empty: none.
    #[serde(default = "default_push_channel")]
    pub push_channel: String,
}

fn default_push_channel() -> String {
    "view".into()
}

/// The plugin.
pub struct CustomerViews {
    push_channel: Option<String>,
}

fn view_key(customer: &str) -> String {
    format!("view:{customer}")
}

impl Plugin for CustomerViews {
    type Config = Settings;

    fn init(config: Settings) -> Result<Self, String> {
        Ok(Self {
            push_channel: Some(config.push_channel).filter(|c| !c.is_empty()),
        })
    }

    fn handle(&self, event: Event) -> Result<(), HandleError> {
        let Some(customer) = event.subject() else {
            return Ok(());
        };
        let Ok(data) = event.json::<serde_json::Value>() else {
            return Ok(());
        };
        let key = view_key(customer);
        let mut view: CustomerView =
            kv::get_packed(&key)?.unwrap_or_else(|| CustomerView::new(customer));
        if !view.apply(event.ty(), &data) {
            return Ok(());
        }
        view.updated_at = event.time().map(str::to_owned);
        kv::set_packed(&key, &view)?;
        if let Some(channel) = &self.push_channel {
            push::to_customer(customer, channel, "customer.view")
                .json(&view)?
                .send()?;
        }
        Ok(())
    }

    fn query(&self, q: &Query) -> Result<Vec<u8>, QueryError> {
        if q.name != "view" {
            return Err(QueryError::UnknownQuery(q.name.clone()));
        }
        let view: CustomerView = kv::get_packed(&view_key(&q.key))
            .map_err(|e| QueryError::Unavailable(format!("{e:?}")))?
            .ok_or_else(|| QueryError::NotFound(format!("nothing is known of `{}` yet", q.key)))?;
        query::json(&view)
    }
}

streamplug_sdk::export_plugin!(CustomerViews);

#[cfg(test)]
mod tests {
    use serde_json::json;
    use streamplug_sdk::packed;

    use super::view::CustomerView;

    #[test]
    fn the_view_is_stored_packed_and_a_view_stored_as_json_still_reads() {
        let mut view = CustomerView::new("vera");
        view.apply("customer.registered", &json!({"name": "Vera"}));
        view.apply(
            "cart.item_added",
            &json!({"product": "tent", "price": 199.0}),
        );
        view.apply(
            "order.placed",
            &json!({"order": "o-1", "total": 199.0, "currency": "EUR"}),
        );
        let bytes = packed::encode(&view).unwrap();
        assert_eq!(bytes[0], packed::TAG);
        assert_eq!(packed::decode::<CustomerView>(&bytes).unwrap(), view);
        // What the plugin's earlier versions stored.
        let json = serde_json::to_vec(&view).unwrap();
        assert_eq!(packed::decode::<CustomerView>(&json).unwrap(), view);
        assert!(
            bytes.len() < json.len(),
            "{} vs {}",
            bytes.len(),
            json.len()
        );
    }
}
