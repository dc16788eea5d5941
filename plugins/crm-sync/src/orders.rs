//! An order as the CRM sees it, folded from `order.*` events, and the
//! Salesforce Order fields that follow from it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What the plugin keeps about an order (KV `order:<id>`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// Day it was placed (`YYYY-MM-DD`).
    #[serde(default)]
    pub placed_on: Option<String>,
    /// Items and total, one line each.
    #[serde(default)]
    pub summary: Option<String>,
    /// `Placed`, `Paid`, `Shipped`, `Delivered` or `Cancelled`.
    #[serde(default)]
    pub status: String,
    /// Carrier and tracking number, once shipped.
    #[serde(default)]
    pub tracking: Option<String>,
}

/// The order's summary from `order.placed` data.
fn summary(data: &Value) -> String {
    let mut lines: Vec<String> = data["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            format!(
                "{} x {} ({:.2})",
                i["quantity"].as_u64().unwrap_or(1),
                i["product"].as_str().unwrap_or("?"),
                i["price"].as_f64().unwrap_or_default()
            )
        })
        .collect();
    lines.push(format!(
        "Total {:.2} {}",
        data["total"].as_f64().unwrap_or_default(),
        data["currency"].as_str().unwrap_or_default()
    ));
    lines.join("\n")
}

/// How far along an order with `status` is: a status never goes back
/// (events from the storefront and the warehouse may arrive out of order).
fn progress(status: &str) -> u8 {
    match status {
        "Placed" => 1,
        "Paid" => 2,
        "Shipped" => 3,
        "Delivered" => 4,
        "Cancelled" => 5,
        _ => 0,
    }
}

impl OrderRecord {
    /// Fold in an `order.*` event of type `ty` with `data`, on `day`.
    pub fn apply(&mut self, ty: &str, data: &Value, day: &str) {
        let status = match ty {
            "order.placed" => {
                self.placed_on = Some(day.to_owned());
                self.summary = Some(summary(data));
                "Placed"
            }
            "order.paid" => "Paid",
            "order.shipped" => {
                let part = |f: &str| data[f].as_str().unwrap_or_default().to_owned();
                self.tracking = Some(
                    format!("{} {}", part("carrier"), part("tracking"))
                        .trim()
                        .to_owned(),
                );
                "Shipped"
            }
            "order.delivered" => "Delivered",
            "order.cancelled" => "Cancelled",
            _ => return,
        };
        if progress(status) >= progress(&self.status) {
            self.status = status.to_owned();
        }
    }

    /// The Order upsert body: on `account` (Salesforce orders need one),
    /// billed to the contact of composite reference `contact`. Salesforce
    /// creates orders as `Draft`; the shop's lifecycle is `Shop_Status__c`.
    pub fn fields(&self, account: &str, contact: &str, day: &str) -> Value {
        let mut fields = json!({
            "AccountId": account,
            "EffectiveDate": self.placed_on.as_deref().unwrap_or(day),
            "Status": "Draft",
            "BillToContactId": format!("@{{{contact}.id}}"),
            "Shop_Status__c": self.status,
        });
        if let Some(summary) = &self.summary {
            fields["Description"] = json!(summary);
        }
        if let Some(tracking) = &self.tracking {
            fields["Tracking_Number__c"] = json!(tracking);
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_keeps_its_placing_day_and_follows_its_lifecycle() {
        let mut o = OrderRecord::default();
        o.apply(
            "order.placed",
            &json!({"order": "o-1", "items": [{"product": "tent", "quantity": 2, "price": 99.5}], "total": 199.0, "currency": "EUR"}),
            "2026-11-20",
        );
        o.apply(
            "order.shipped",
            &json!({"order": "o-1", "carrier": "DHL", "tracking": "JD01"}),
            "2026-11-22",
        );
        let f = o.fields("001A", "contact", "2026-11-22");
        assert_eq!(f["EffectiveDate"], "2026-11-20");
        assert_eq!(f["Shop_Status__c"], "Shipped");
        assert_eq!(f["Tracking_Number__c"], "DHL JD01");
        assert_eq!(f["Description"], "2 x tent (99.50)\nTotal 199.00 EUR");
        assert_eq!(f["BillToContactId"], "@{contact.id}");
        assert_eq!(f["Status"], "Draft");
    }

    #[test]
    fn a_late_placed_event_adds_the_items_but_keeps_the_later_status() {
        let mut o = OrderRecord::default();
        o.apply(
            "order.shipped",
            &json!({"order": "o-1", "carrier": "DHL", "tracking": "JD01"}),
            "2026-11-22",
        );
        o.apply(
            "order.placed",
            &json!({"order": "o-1", "items": [], "total": 5.0, "currency": "EUR"}),
            "2026-11-21",
        );
        assert_eq!(o.status, "Shipped");
        assert_eq!(o.placed_on.as_deref(), Some("2026-11-21"));
        assert_eq!(o.summary.as_deref(), Some("Total 5.00 EUR"));
    }

    #[test]
    fn an_order_first_seen_after_placing_takes_the_event_day() {
        let mut o = OrderRecord::default();
        o.apply("order.delivered", &json!({"order": "o-9"}), "2026-11-23");
        let f = o.fields("001A", "contact", "2026-11-23");
        assert_eq!(f["EffectiveDate"], "2026-11-23");
        assert_eq!(f["Shop_Status__c"], "Delivered");
        assert!(f.get("Description").is_none());
    }
}
