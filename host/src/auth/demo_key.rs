//! The demo API key of the embedded default: minted at first start and
//! written to `<data_dir>/demo-api-key` (mode 0600, readable by the user who
//! runs the gateway only), so the README's `curl` examples work two commands
//! after a fresh clone. Only on a loopback listener (checked at start).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::api_keys::{self, KEY_PREFIX};

/// The file the demo key is kept in, under the data directory.
pub const FILE_NAME: &str = "demo-api-key";

/// Where the demo key of `data_dir` is kept.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

/// The digest of the demo key of `data_dir`, minting and writing the key
/// first if there is none.
pub fn load_or_mint(data_dir: &Path) -> std::io::Result<[u8; 32]> {
    let file = path(data_dir);
    if let Ok(text) = std::fs::read_to_string(&file) {
        let key = text.trim();
        if key.starts_with(KEY_PREFIX) {
            return Ok(api_keys::digest(key));
        }
    }
    std::fs::create_dir_all(data_dir)?;
    let key = api_keys::generate().map_err(std::io::Error::other)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(&file)?;
    out.write_all(key.as_bytes())?;
    out.write_all(b"\n")?;
    out.sync_all()?;
    tracing::info!(file = %file.display(), "minted a demo API key (every scope; loopback only)");
    Ok(api_keys::digest(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_key_is_minted_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_mint(dir.path()).unwrap();
        assert_eq!(load_or_mint(dir.path()).unwrap(), first);
        let key = std::fs::read_to_string(path(dir.path())).unwrap();
        assert_eq!(api_keys::digest(key.trim()), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }
}
