//! What a shopper's message asks for, by a transparent rule table: each
//! intent has phrases that count for it; the intent with the most matching
//! phrase words wins, ties go to the earlier rule, and a message that
//! matches nothing is `Unknown`. Order ids (`o-123`, `#123`, `order 123`)
//! are picked out of the text.

/// What the shopper wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// "Where is my order?" (optionally naming one).
    OrderStatus {
        /// The order named, if any.
        order: Option<String>,
    },
    /// Cancel an order (optionally naming one).
    CancelOrder {
        /// The order named, if any.
        order: Option<String>,
    },
    /// Returns and refunds policy.
    Returns,
    /// How long shipping takes.
    ShippingTimes,
    /// Asks for a person.
    Human,
    /// Hello.
    Greeting,
    /// Nothing recognised.
    Unknown,
}

/// One rule: the intent's name and its phrases (each a list of words that
/// must all appear).
struct Rule {
    intent: &'static str,
    phrases: &'static [&'static [&'static str]],
}

/// In priority order: a human request beats everything, cancel beats status.
const RULES: &[Rule] = &[
    Rule {
        intent: "human",
        phrases: &[
            &["human"],
            &["agent"],
            &["person"],
            &["representative"],
            &["talk", "someone"],
            &["speak", "someone"],
            &["real", "person"],
            &["call", "me"],
            &["complaint"],
        ],
    },
    Rule {
        intent: "cancel",
        phrases: &[
            &["cancel"],
            &["cancellation"],
            &["stop", "order"],
            &["don't", "want"],
        ],
    },
    Rule {
        intent: "status",
        phrases: &[
            &["where", "order"],
            &["where", "package"],
            &["where", "parcel"],
            &["track"],
            &["tracking"],
            &["status", "order"],
            &["order", "arrive"],
            &["when", "arrive"],
            &["when", "deliver"],
            &["shipped"],
            &["delivered"],
            &["not", "received"],
        ],
    },
    Rule {
        intent: "returns",
        phrases: &[
            &["return"],
            &["returns"],
            &["refund"],
            &["money", "back"],
            &["exchange"],
            &["send", "back"],
        ],
    },
    Rule {
        intent: "shipping",
        phrases: &[
            &["shipping"],
            &["delivery", "time"],
            &["how", "long"],
            &["ship", "to"],
            &["delivery", "cost"],
            &["express"],
        ],
    },
    Rule {
        intent: "greeting",
        phrases: &[
            &["hello"],
            &["hi"],
            &["hey"],
            &["good", "morning"],
            &["good", "evening"],
            &["thanks"],
            &["thank"],
        ],
    },
];

/// Lowercase words of `text`, punctuation stripped (apostrophes kept).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-' || c == '#'))
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches(|c| c == '\'' || c == '-').to_owned())
        .collect()
}

/// An order id in the text: `o-123`/`ord-123` style tokens, `#123`, or the
/// word after "order" when it has a digit.
pub fn order_id(text: &str) -> Option<String> {
    let tokens: Vec<&str> = text
        .split(|c: char| {
            c.is_whitespace() || matches!(c, ',' | '?' | '!' | '.' | ';' | ':' | '(' | ')')
        })
        .filter(|t| !t.is_empty())
        .collect();
    let has_digit = |t: &str| t.bytes().any(|b| b.is_ascii_digit());
    if let Some(t) = tokens
        .iter()
        .find(|t| t.starts_with('#') && t.len() > 1 && has_digit(t))
    {
        return Some(t.trim_start_matches('#').to_owned());
    }
    if let Some(t) = tokens.iter().find(|t| {
        t.contains('-') && has_digit(t) && t.chars().next().is_some_and(char::is_alphabetic)
    }) {
        return Some((*t).to_owned());
    }
    tokens
        .windows(2)
        .find(|w| w[0].eq_ignore_ascii_case("order") && has_digit(w[1]))
        .map(|w| w[1].to_owned())
}

/// Classify `text`.
pub fn classify(text: &str) -> Intent {
    let words = words(text);
    let has = |w: &str| {
        words
            .iter()
            .any(|x| x == w || (w.len() > 4 && x.starts_with(w)))
    };
    let mut best: Option<(&str, usize)> = None;
    for rule in RULES {
        let score: usize = rule
            .phrases
            .iter()
            .filter(|phrase| phrase.iter().all(|w| has(w)))
            .map(|phrase| phrase.len())
            .sum();
        if score > 0 && best.is_none_or(|(_, s)| score > s) {
            best = Some((rule.intent, score));
        }
    }
    let order = order_id(text);
    match best.map(|(i, _)| i) {
        Some("human") => Intent::Human,
        Some("cancel") => Intent::CancelOrder { order },
        Some("status") => Intent::OrderStatus { order },
        Some("returns") => Intent::Returns,
        Some("shipping") => Intent::ShippingTimes,
        Some("greeting") => Intent::Greeting,
        _ if order.is_some() => Intent::OrderStatus { order },
        _ => Intent::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_questions_are_recognised_with_their_order() {
        for text in [
            "Where is my order?",
            "where's my package",
            "Can you track order o-1001 for me",
            "When will it arrive?",
            "I have not received my parcel yet",
        ] {
            assert!(
                matches!(classify(text), Intent::OrderStatus { .. }),
                "{text}"
            );
        }
        assert_eq!(
            classify("where is order #4711?"),
            Intent::OrderStatus {
                order: Some("4711".into())
            }
        );
        assert_eq!(
            classify("status of o-1001 please"),
            Intent::OrderStatus {
                order: Some("o-1001".into())
            }
        );
    }

    #[test]
    fn policies_cancellations_greetings_and_people() {
        assert_eq!(classify("How do I return these shoes?"), Intent::Returns);
        assert_eq!(classify("can I get a refund"), Intent::Returns);
        assert_eq!(
            classify("How long does shipping take to Lyon?"),
            Intent::ShippingTimes
        );
        assert_eq!(
            classify("Please cancel order o-77"),
            Intent::CancelOrder {
                order: Some("o-77".into())
            }
        );
        assert_eq!(classify("hi there"), Intent::Greeting);
        assert_eq!(classify("I want to talk to someone"), Intent::Human);
        assert_eq!(
            classify("get me a human, my order is wrong"),
            Intent::Human,
            "a person beats the order rule"
        );
        assert_eq!(classify("The zipper broke after one day"), Intent::Unknown);
        assert_eq!(classify(""), Intent::Unknown);
    }

    #[test]
    fn order_ids_come_in_several_forms() {
        assert_eq!(order_id("order 12345 is late"), Some("12345".into()));
        assert_eq!(order_id("ref ORD-2026-9"), Some("ORD-2026-9".into()));
        assert_eq!(order_id("no number here"), None);
        assert_eq!(
            order_id("e-mail me"),
            None,
            "a hyphenated word without a digit"
        );
    }
}
