//! A checkpoint's sync of the segment files written since the last one.

use std::fs::File;
use std::path::Path;

use super::unavailable;
use crate::storage::StorageError;

/// `fdatasync` every file, each on its own thread: the file system folds
/// syncs that wait together into one journal commit, where one after the
/// other each waits for its own. A checkpoint syncs a file for every
/// partition written since the last, about ten under load; at 10k events/s
/// end to end this took a checkpoint from 7.9 to 5.7 ms p50 and the
/// append's p99 from 12.5-13.6 to 9.8-10.3 ms (docs/BENCHMARKS.md, the
/// whole path). Every file is synced; the first error is returned, naming
/// the file's directory (`(file, dir)` pairs).
pub(super) fn sync_all_at_once(files: &[(&File, &Path)]) -> Result<(), StorageError> {
    let sync = |(file, dir): &(&File, &Path)| {
        file.sync_data()
            .map_err(|e| unavailable(format!("{}: {e}", dir.display())))
    };
    let Some((first, rest)) = files.split_first() else {
        return Ok(());
    };
    std::thread::scope(|scope| {
        let others: Vec<_> = rest.iter().map(|f| scope.spawn(move || sync(f))).collect();
        let mut result = sync(first);
        for other in others {
            let synced = other
                .join()
                .unwrap_or_else(|_| Err(unavailable("a segment's sync panicked")));
            result = result.and(synced);
        }
        result
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;
    use std::os::fd::OwnedFd;

    use super::*;

    #[test]
    fn every_file_is_synced_and_a_failure_names_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<File> = (0..4)
            .map(|i| {
                let mut f = File::create(dir.path().join(format!("{i}.log"))).unwrap();
                f.write_all(b"record").unwrap();
                f
            })
            .collect();
        let listed: Vec<(&File, &Path)> = files.iter().map(|f| (f, dir.path())).collect();
        sync_all_at_once(&listed).unwrap();
        sync_all_at_once(&[]).unwrap();

        // A pipe cannot be synced (EINVAL): its error comes back, whichever
        // thread met it, and the files around it are still synced.
        let (reader, _writer) = std::io::pipe().unwrap();
        let pipe = File::from(OwnedFd::from(reader));
        let broken = Path::new("/records/broken-0");
        let mixed = [listed[0], (&pipe, broken), listed[1]];
        let err = sync_all_at_once(&mixed).unwrap_err();
        assert!(err.to_string().contains("/records/broken-0"), "{err}");
        let err = sync_all_at_once(&[(&pipe, broken)]).unwrap_err();
        assert!(err.to_string().contains("/records/broken-0"), "{err}");
    }
}
