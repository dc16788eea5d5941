//! [`Stored`]: the tables one event reads, fetched from KV in one host call
//! (`kv::get_many`). The [`Table`]s decoded from it borrow their product
//! names from its bytes, so reading a table allocates no string per entry.

use rustc_hash::{FxHashMap, FxHashSet};
use streamplug_sdk::{HandleError, kv};

use crate::table::Table;

/// Stored values by KV key (`None`: the key holds nothing).
#[derive(Debug, Default)]
pub struct Stored {
    values: FxHashMap<String, Option<Vec<u8>>>,
}

impl Stored {
    /// Read `keys` (each once, whatever the repeats) in one host call.
    pub fn read(keys: impl IntoIterator<Item = String>) -> Result<Self, HandleError> {
        let mut keys: Vec<String> = keys.into_iter().collect();
        let mut seen = FxHashSet::default();
        let first: Vec<bool> = keys.iter().map(|key| seen.insert(key.as_str())).collect();
        let mut first = first.into_iter();
        keys.retain(|_| first.next().unwrap_or(false));
        if keys.is_empty() {
            return Ok(Self::default());
        }
        let values = kv::get_many(&keys)?;
        Ok(Self {
            values: keys.into_iter().zip(values).collect(),
        })
    }

    /// The table under `key`: empty if the key holds nothing. A key this
    /// read did not fetch is read now, on its own.
    pub fn table(&self, key: &str) -> Result<Table<'_>, HandleError> {
        match self.values.get(key) {
            Some(Some(bytes)) => Table::decode(bytes),
            Some(None) => Ok(Table::default()),
            None => match kv::get(key)? {
                Some(bytes) => Ok(Table::decode(&bytes)?.into_owned()),
                None => Ok(Table::default()),
            },
        }
    }
}
