//! `streamplug plugin new`: write a new plugin project from the templates
//! (see [`crate::scaffold`]) and say how to build, test and run it.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::error::PluginCliError;
use crate::scaffold::{self, Lang};

/// The new plugin.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Its name (lowercase letters, digits and `-`).
    pub name: String,
    /// Its language.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Where to create it (default: `./NAME`); must not exist or be empty.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Create the project `args` describes, telling `out` what was made.
pub fn run(args: NewArgs, out: &mut (dyn Write + Send)) -> Result<(), PluginCliError> {
    if !scaffold::valid_name(&args.name) {
        return Err(PluginCliError::Invalid(format!(
            "`{}` cannot name a plugin: use 1-64 lowercase letters, digits or `-`, starting with a letter",
            args.name
        )));
    }
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(&args.name));
    let io = |source| PluginCliError::File {
        path: dir.clone(),
        source,
    };
    if dir
        .read_dir()
        .is_ok_and(|mut entries| entries.next().is_some())
    {
        return Err(PluginCliError::Invalid(format!(
            "{} exists and is not empty",
            dir.display()
        )));
    }
    let files = scaffold::project(&args.name, args.lang);
    for file in &files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        std::fs::write(&path, &file.contents).map_err(io)?;
    }
    writeln!(
        out,
        "created {} plugin `{}` in {} ({} files); see {}/README.md to build, test and run it",
        args.lang,
        args.name,
        dir.display(),
        files.len(),
        dir.display()
    )?;
    Ok(())
}
