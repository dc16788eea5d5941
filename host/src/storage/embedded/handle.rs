//! The open database, swappable. redb refuses every write after an I/O
//! error (ENOSPC included) until the database is closed and opened again;
//! opening it recovers the last committed state. The writer does that by
//! itself: it takes the database away from readers (they get `Unavailable`
//! for that moment), waits for the ones still reading, closes it and opens
//! it again.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use redb::Database;

use super::{tables, unavailable};
use crate::storage::StorageError;

/// How long a reopen waits for readers to let go of the old database.
const READERS_PATIENCE: Duration = Duration::from_secs(10);

/// The database of the embedded store, shared by its readers and writer.
pub(super) struct DbHandle {
    path: PathBuf,
    current: ArcSwapOption<Database>,
}

/// Open (creating if needed) the database at `path`, with every table.
fn open_database(path: &Path) -> Result<Database, StorageError> {
    let db = Database::create(path).map_err(unavailable)?;
    tables::create_all(&db)?;
    Ok(db)
}

impl DbHandle {
    /// Open the database at `path`.
    pub(super) fn open(path: PathBuf) -> Result<Self, StorageError> {
        let db = open_database(&path)?;
        Ok(Self {
            path,
            current: ArcSwapOption::new(Some(Arc::new(db))),
        })
    }

    /// The open database.
    pub(super) fn get(&self) -> Result<Arc<Database>, StorageError> {
        self.current.load_full().ok_or_else(|| {
            StorageError::Unavailable(
                "the embedded store is reopening after a write failure; try again shortly".into(),
            )
        })
    }

    /// Close the database and open it again. Until it is open readers get
    /// `Unavailable`; if it cannot be opened (the disk is still full), it
    /// stays closed and the next call tries again.
    pub(super) fn reopen(&self) -> Result<Arc<Database>, StorageError> {
        if let Some(mut old) = self.current.swap(None) {
            let deadline = Instant::now() + READERS_PATIENCE;
            loop {
                match Arc::try_unwrap(old) {
                    Ok(db) => {
                        drop(db);
                        break;
                    }
                    Err(shared) if Instant::now() < deadline => {
                        old = shared;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(shared) => {
                        self.current.store(Some(shared));
                        return Err(unavailable(
                            "readers held the database too long to reopen it",
                        ));
                    }
                }
            }
        }
        let db = Arc::new(open_database(&self.path)?);
        self.current.store(Some(db.clone()));
        Ok(db)
    }
}
