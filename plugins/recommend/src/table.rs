//! [`Table`]: weighted products, stored as a map of product to weight.
//!
//! Every event reads and rewrites a handful of these (a product's
//! neighbours, a popularity shard), so they are kept as a plain list: read
//! by appending entries as they come (no tree to build, no key comparisons),
//! updated in place. They are never longer than their cap (50 or 64).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Products and their weights, each product once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table(Vec<(String, f64)>);

impl Table {
    /// Add `weight` to `product`, then keep only the `cap` heaviest entries
    /// (of equal weights, the one whose name sorts last goes first).
    pub fn add_capped(&mut self, product: &str, weight: f64, cap: usize) {
        match self.0.iter_mut().find(|(p, _)| p == product) {
            Some((_, w)) => *w += weight,
            None => self.0.push((product.to_owned(), weight)),
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
    pub fn iter(&self) -> impl Iterator<Item = (&String, f64)> {
        self.0.iter().map(|(p, w)| (p, *w))
    }

    /// How many products it holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Append the entries of `other`, whose products this table lacks (the
    /// popularity shards hold disjoint products).
    pub fn append(&mut self, other: Table) {
        self.0.extend(other.0);
    }
}

impl<const N: usize> From<[(String, f64); N]> for Table {
    fn from(entries: [(String, f64); N]) -> Self {
        let mut table = Self::default();
        for (product, weight) in entries {
            table.add_capped(&product, weight, usize::MAX);
        }
        table
    }
}

impl Serialize for Table {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (product, weight) in &self.0 {
            map.serialize_entry(product, weight)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Table {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor)
    }
}

struct TableVisitor;

impl<'de> Visitor<'de> for TableVisitor {
    type Value = Table;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of product to weight")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Table, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(entry) = map.next_entry::<String, f64>()? {
            entries.push(entry);
        }
        Ok(Table(entries))
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
}
