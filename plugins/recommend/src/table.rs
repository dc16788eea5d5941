//! [`Table`]: weighted products, stored as a map of product to weight.
//!
//! Every event reads and rewrites a handful of these (a product's
//! neighbours, a popularity shard), so they are kept as a plain list: read
//! by appending entries as they come (no tree to build, no key comparisons),
//! updated in place. They are never longer than their cap (50 or 64).
//!
//! A table decoded from packed KV bytes borrows its product names from
//! those bytes ([`Table<'a>`]): reading one allocates a list, not a string
//! per entry. Only names an update adds are owned.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Products and their weights, each product once; the names borrowed from
/// the bytes the table was read from (`'a`) or owned.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table<'a>(Vec<(Cow<'a, str>, f64)>);

impl<'a> Table<'a> {
    /// Add `weight` to `product`, then keep only the `cap` heaviest entries
    /// (of equal weights, the one whose name sorts last goes first).
    pub fn add_capped(&mut self, product: &str, weight: f64, cap: usize) {
        match self.0.iter_mut().find(|(p, _)| p == product) {
            Some((_, w)) => *w += weight,
            None => self.0.push((Cow::Owned(product.to_owned()), weight)),
        }
        while self.0.len() > cap {
            let lightest = self
                .0
                .iter()
                .enumerate()
                .min_by(|(_, x), (_, y)| x.1.total_cmp(&y.1).then_with(|| y.0.cmp(&x.0)))
                .map(|(i, _)| i);
            match lightest {
                Some(i) => self.0.swap_remove(i),
                None => break,
            };
        }
    }

    /// The weight of `product`, if it is in the table.
    pub fn get(&self, product: &str) -> Option<f64> {
        self.0.iter().find(|(p, _)| p == product).map(|(_, w)| *w)
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(p, w)| (p.as_ref(), *w))
    }

    /// How many products it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The same table owning its names (to outlive the bytes it was read
    /// from).
    pub fn into_owned(self) -> Table<'static> {
        Table(
            self.0
                .into_iter()
                .map(|(p, w)| (Cow::Owned(p.into_owned()), w))
                .collect(),
        )
    }

    /// Append the entries of `other`, whose products this table lacks (the
    /// popularity shards hold disjoint products).
    pub fn append(&mut self, other: Table<'a>) {
        self.0.extend(other.0);
    }
}

impl<const N: usize> From<[(String, f64); N]> for Table<'static> {
    fn from(entries: [(String, f64); N]) -> Self {
        let mut table = Self::default();
        for (product, weight) in entries {
            table.add_capped(&product, weight, usize::MAX);
        }
        table
    }
}

impl Serialize for Table<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (product, weight) in &self.0 {
            map.serialize_entry(product, weight)?;
        }
        map.end()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Table<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor)
    }
}

struct TableVisitor;

impl<'de> Visitor<'de> for TableVisitor {
    type Value = Table<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of product to weight")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Table<'de>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some((Name(product), weight)) = map.next_entry::<Name<'de>, f64>()? {
            entries.push((product, weight));
        }
        Ok(Table(entries))
    }
}

/// A product name, borrowed from the input when the format allows it (a
/// packed string always does; a JSON string without escapes does).
struct Name<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a product name")
    }

    fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(name)))
    }

    fn visit_str<E>(self, name: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(name.to_owned())))
    }

    fn visit_string<E>(self, name: String) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_sums_and_the_cap_drops_the_lightest() {
        let mut t = Table::default();
        for i in 0..5 {
            t.add_capped(&format!("p{i}"), f64::from(i), 3);
        }
        t.add_capped("p2", 10.0, 3);
        assert_eq!(t.len(), 3);
        assert_eq!(t.get("p2"), Some(12.0));
        assert_eq!(t.get("p0"), None);
        assert_eq!(t.get("p1"), None);
        // Equal weights: the name that sorts last goes first.
        let mut tie = Table::from([("a".into(), 1.0), ("b".into(), 1.0)]);
        tie.add_capped("c", 5.0, 2);
        assert_eq!(tie.get("a"), Some(1.0));
        assert_eq!(tie.get("b"), None);
    }

    #[test]
    fn it_is_stored_as_a_map_and_reads_the_maps_stored_before() {
        let t = Table::from([("mat".into(), 1.5), ("stove".into(), 9.0)]);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"mat":1.5,"stove":9.0}"#);
        let back: Table = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let packed = streamplug_sdk::packed::encode(&t).unwrap();
        assert_eq!(streamplug_sdk::packed::decode::<Table>(&packed).unwrap(), t);
        let wrong = serde_json::from_str::<Table>("[1]").unwrap_err();
        assert!(wrong.to_string().contains("map of product"), "{wrong}");
    }

    #[test]
    fn a_table_read_from_packed_bytes_borrows_its_names_and_owns_what_it_adds() {
        let bytes = streamplug_sdk::packed::encode(&Table::from([("mat".into(), 1.5)])).unwrap();
        let mut read: Table<'_> = streamplug_sdk::packed::decode(&bytes).unwrap();
        assert!(matches!(read.0[0].0, Cow::Borrowed("mat")), "{read:?}");
        read.add_capped("stove", 2.0, 10);
        assert!(matches!(&read.0[1].0, Cow::Owned(name) if name == "stove"));
        // JSON with an escape cannot be borrowed: it is read owned.
        let json = br#"{"m\u0061t":1.5}"#;
        let escaped: Table<'_> = streamplug_sdk::packed::decode(json).unwrap();
        assert_eq!(escaped.get("mat"), Some(1.5));
        assert!(matches!(escaped.0[0].0, Cow::Owned(_)), "{escaped:?}");
        let owned: Table<'static> = read.into_owned();
        assert_eq!(owned.get("stove"), Some(2.0));
    }
}
