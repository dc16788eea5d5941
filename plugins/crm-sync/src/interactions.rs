//! Notable interactions as Salesforce Tasks on the customer's Contact:
//! a subject a service agent reads at a glance, and the details.

use serde_json::{Value, json};

/// Interactions recorded unless the config says otherwise: cart changes,
/// chat messages and message delivery outcomes. Page and product views are
/// too many for an activity timeline.
pub const DEFAULT_NOTABLE: [&str; 4] = [
    "cart.item_added",
    "cart.item_removed",
    "support.message",
    "message.status",
];

fn text(data: &Value, field: &str) -> String {
    data[field].as_str().unwrap_or_default().to_owned()
}

/// The Task subject for an interaction of type `ty` with `data`.
pub fn subject(ty: &str, data: &Value) -> String {
    let subject = match ty {
        "cart.item_added" => format!("Added {} to cart", text(data, "product")),
        "cart.item_removed" => format!("Removed {} from cart", text(data, "product")),
        "support.message" => format!("Chat: {}", text(data, "text")),
        "message.status" => {
            let mut s = format!(
                "{} {}",
                text(data, "channel").to_uppercase(),
                text(data, "status").to_lowercase()
            );
            if let Some(order) = data["order"].as_str() {
                s.push_str(&format!(" (order {order})"));
            }
            s
        }
        "page.viewed" => format!("Viewed page {}", text(data, "page")),
        "product.viewed" => format!("Viewed {}", text(data, "product")),
        other => other.to_owned(),
    };
    // Task.Subject holds 255 characters.
    subject.chars().take(255).collect()
}

/// The Task upsert body for an interaction on `day`, about the contact of
/// composite reference `contact`.
pub fn task_fields(ty: &str, data: &Value, day: &str, contact: &str) -> Value {
    json!({
        "Subject": subject(ty, data),
        "Description": format!("{ty}\n{data}"),
        "ActivityDate": day,
        "Status": "Completed",
        "Priority": "Normal",
        "WhoId": format!("@{{{contact}.id}}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_say_what_happened() {
        assert_eq!(
            subject("cart.item_added", &json!({"product": "tent"})),
            "Added tent to cart"
        );
        assert_eq!(
            subject("support.message", &json!({"text": "where is it?"})),
            "Chat: where is it?"
        );
        assert_eq!(
            subject(
                "message.status",
                &json!({"channel": "sms", "status": "DELIVERED", "order": "o-1"})
            ),
            "SMS delivered (order o-1)"
        );
        assert_eq!(
            subject("support.message", &json!({"text": "x".repeat(400)}))
                .chars()
                .count(),
            255
        );
    }

    #[test]
    fn a_task_is_completed_on_the_day_and_points_at_the_contact() {
        let t = task_fields(
            "cart.item_added",
            &json!({"product": "tent"}),
            "2026-11-23",
            "contact",
        );
        assert_eq!(t["WhoId"], "@{contact.id}");
        assert_eq!(t["Status"], "Completed");
        assert_eq!(t["ActivityDate"], "2026-11-23");
    }
}
