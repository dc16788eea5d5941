//! Tables as versions before the stored `Table` layout kept them: a
//! MessagePack (or JSON) map of product name to weight. They are read so a
//! recommender upgraded over its state keeps it; nothing writes them now.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use streamplug_sdk::{HandleError, packed};

/// The entries of a table stored as a map, in its order; the names borrow
/// `bytes` where the encoding allows it (a packed string always does).
pub fn decode(bytes: &[u8]) -> Result<Vec<(Cow<'_, str>, f64)>, HandleError> {
    let Map(entries) = packed::decode(bytes)?;
    Ok(entries)
}

/// The entries of a stored map, in its order.
struct Map<'a>(Vec<(Cow<'a, str>, f64)>);

impl<'de: 'a, 'a> Deserialize<'de> for Map<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MapVisitor)
    }
}

struct MapVisitor;

impl<'de> Visitor<'de> for MapVisitor {
    type Value = Map<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of product to weight")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Map<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some((Name(product), weight)) = map.next_entry::<Name<'de>, f64>()? {
            entries.push((product, weight));
        }
        Ok(Map(entries))
    }
}

/// A product name, borrowed from the input when the format allows it (a
/// packed string always does; a JSON string without escapes does).
#[derive(Deserialize)]
#[serde(transparent)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);
