//! [`Table`]: weighted products, the recommender's unit of state.
//!
//! A product view reads about ten of these (neighbours of recent products,
//! a popularity shard) and rewrites six, so they are stored in a form that
//! reads without parsing: each entry is its product's id ([`product_id`]),
//! its weight and its name, at fixed offsets. Entries are found and
//! compared by id; a name is only looked at when its product is
//! recommended or two equal weights must be ordered. Reading a table
//! allocates one list and validates nothing per entry but its bounds: the
//! names borrow the bytes the table was read from (`'a`), and only names
//! an update adds are owned.
//!
//! Layout, little-endian: [`MAGIC`] (two bytes), [`FORMAT`], the entry
//! count (`u16`);
//! then per entry the id (`u64`), the weight (`f64`), the name's length
//! (`u16`) and its bytes. Tables stored by earlier versions (MessagePack or
//! JSON maps of name to weight, [`crate::legacy_table`]) are read too, and
//! written back in this form the next time an event updates them; those
//! versions cannot read this form, so a rollback past this one rejects the
//! events that read a rewritten table (docs/writing-plugins.md).

use std::borrow::Cow;

use streamplug_sdk::{HandleError, packed};

/// First bytes of a stored table: the packed encoding's tag
/// ([`streamplug_sdk::packed::TAG`]) twice. A packed value's second byte
/// is MessagePack, which never uses `0xC1`, and no JSON text starts with
/// it, so a table in this form is never mistaken for one stored before.
pub const MAGIC: [u8; 2] = [packed::TAG, packed::TAG];
/// The layout's version (third byte).
pub const FORMAT: u8 = 1;
/// Bytes of an entry before its name: id, weight, name length.
const ENTRY_FIXED: usize = 8 + 8 + 2;

/// A product's id: FNV-1a (64 bits) of its name. Stable across versions
/// and instances (it is stored); two names of one catalogue sharing an id
/// is a ~10⁻⁸ chance at a million products, and would merge their signals.
pub fn product_id(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One product of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// [`product_id`] of the name.
    pub id: u64,
    /// Its accumulated signal.
    pub weight: f64,
    /// The product's name, as stored (UTF-8 when this plugin wrote it).
    pub name: Cow<'a, [u8]>,
}

impl Entry<'_> {
    /// The product's name as text.
    pub fn product(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }
}

/// Products and their weights, each product once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table<'a>(Vec<Entry<'a>>);

impl<'a> Table<'a> {
    /// Read a stored table; its names borrow `bytes`.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, HandleError> {
        match bytes {
            [m0, m1, FORMAT, rest @ ..] if [*m0, *m1] == MAGIC => Self::decode_entries(rest),
            [m0, m1, format, ..] if [*m0, *m1] == MAGIC => Err(HandleError::reject(format!(
                "a stored table is in format {format}; this version reads format {FORMAT}"
            ))),
            _ => Ok(Self::of_names(crate::legacy_table::decode(bytes)?)),
        }
    }

    fn decode_entries(mut rest: &'a [u8]) -> Result<Self, HandleError> {
        let cut = || HandleError::reject("a stored table is cut short");
        let count = u16::from_le_bytes(take(&mut rest).ok_or_else(cut)?);
        let mut entries = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let id = u64::from_le_bytes(take(&mut rest).ok_or_else(cut)?);
            let weight = f64::from_le_bytes(take(&mut rest).ok_or_else(cut)?);
            let len = usize::from(u16::from_le_bytes(take(&mut rest).ok_or_else(cut)?));
            let (name, tail) = rest.split_at_checked(len).ok_or_else(cut)?;
            rest = tail;
            entries.push(Entry {
                id,
                weight,
                name: Cow::Borrowed(name),
            });
        }
        if !rest.is_empty() {
            return Err(HandleError::reject(
                "a stored table has bytes after its entries",
            ));
        }
        Ok(Table(entries))
    }

    /// Append the stored form to `out`. A table longer than 65,535 entries
    /// or a name longer than 65,535 bytes cannot be stored.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), HandleError> {
        let too_long = |what: &str| HandleError::reject(format!("{what} is too long to store"));
        let count = u16::try_from(self.0.len()).map_err(|_| too_long("a table"))?;
        out.reserve(
            MAGIC.len()
                + 3
                + self
                    .0
                    .iter()
                    .map(|e| ENTRY_FIXED + e.name.len())
                    .sum::<usize>(),
        );
        out.extend_from_slice(&MAGIC);
        out.push(FORMAT);
        out.extend_from_slice(&count.to_le_bytes());
        for entry in &self.0 {
            let len = u16::try_from(entry.name.len()).map_err(|_| too_long("a product name"))?;
            out.extend_from_slice(&entry.id.to_le_bytes());
            out.extend_from_slice(&entry.weight.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&entry.name);
        }
        Ok(())
    }

    /// Add `weight` to `product`, then keep only the `cap` heaviest entries
    /// (of equal weights, the one with the larger id goes first: a stable
    /// order that compares no names, as a full table is scanned on every
    /// product it gains).
    pub fn add_capped(&mut self, product: &str, weight: f64, cap: usize) {
        let id = product_id(product);
        match self.0.iter_mut().find(|e| e.id == id) {
            Some(entry) => entry.weight += weight,
            None => self.0.push(Entry {
                id,
                weight,
                name: Cow::Owned(product.as_bytes().to_vec()),
            }),
        }
        while self.0.len() > cap {
            let lightest = self
                .0
                .iter()
                .enumerate()
                .min_by(|(_, x), (_, y)| x.weight.total_cmp(&y.weight).then(y.id.cmp(&x.id)))
                .map(|(i, _)| i);
            match lightest {
                Some(i) => self.0.swap_remove(i),
                None => break,
            };
        }
    }

    /// The weight of `product`, if it is in the table.
    pub fn get(&self, product: &str) -> Option<f64> {
        let id = product_id(product);
        self.0.iter().find(|e| e.id == id).map(|e| e.weight)
    }

    /// The entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry<'a>> {
        self.0.iter()
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
                .map(|e| Entry {
                    id: e.id,
                    weight: e.weight,
                    name: Cow::Owned(e.name.into_owned()),
                })
                .collect(),
        )
    }

    /// Append the entries of `other`, whose products this table lacks (the
    /// popularity shards hold disjoint products).
    pub fn append(&mut self, other: Table<'a>) {
        self.0.extend(other.0);
    }

    /// A table of `entries` as read (ids computed from the names).
    fn of_names(entries: impl IntoIterator<Item = (Cow<'a, str>, f64)>) -> Self {
        Table(
            entries
                .into_iter()
                .map(|(name, weight)| Entry {
                    id: product_id(&name),
                    weight,
                    name: match name {
                        Cow::Borrowed(name) => Cow::Borrowed(name.as_bytes()),
                        Cow::Owned(name) => Cow::Owned(name.into_bytes()),
                    },
                })
                .collect(),
        )
    }
}

/// The next `N` bytes of `rest`, which moves past them.
fn take<const N: usize>(rest: &mut &[u8]) -> Option<[u8; N]> {
    let (head, tail) = rest.split_first_chunk::<N>()?;
    *rest = tail;
    Some(*head)
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

#[cfg(test)]
#[path = "table_tests.rs"]
mod tests;
