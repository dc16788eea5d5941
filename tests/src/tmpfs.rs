//! A small tmpfs to fill: the disk-full fault on this machine (as root,
//! `mount -t tmpfs`; `remount,size=` gives space back without unmounting).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// A mounted tmpfs, unmounted when dropped.
pub struct Tmpfs {
    dir: PathBuf,
}

fn run(args: &[&str]) -> Result<()> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .with_context(|| format!("running {args:?}"))?;
    if !out.status.success() {
        bail!(
            "{args:?} failed: {} (the disk-full tests mount a tmpfs and need root)",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl Tmpfs {
    /// Mount a tmpfs of `mib` MiB on `dir` (created).
    pub fn mount(dir: &Path, mib: u64) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let size = format!("size={mib}m");
        run(&[
            "mount",
            "-t",
            "tmpfs",
            "-o",
            &size,
            "tmpfs",
            &dir.to_string_lossy(),
        ])?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// Its mount point.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Change its size to `mib` MiB, keeping its files.
    pub fn resize(&self, mib: u64) -> Result<()> {
        let options = format!("remount,size={mib}m");
        run(&["mount", "-o", &options, &self.dir.to_string_lossy()])
    }

    /// Fill it with a file until `leave` bytes are free; the file's path.
    pub fn fill(&self, leave: u64) -> Result<PathBuf> {
        let free = streamplug::storage::health::free_bytes(&self.dir)?;
        let path = self.dir.join("filler");
        let size = free.saturating_sub(leave);
        // Written, not a sparse file: tmpfs counts only pages that exist.
        let chunk = vec![0xa5u8; 1 << 20];
        let mut file = std::fs::File::create(&path)?;
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            std::io::Write::write_all(&mut file, &chunk[..n])?;
            left -= n as u64;
        }
        Ok(path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: a file still open elsewhere does not keep it mounted.
        let _ = run(&["umount", "-l", &self.dir.to_string_lossy()]);
    }
}
