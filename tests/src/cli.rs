//! `streamplug plugin …` run in the test process, parsed and dispatched as
//! the binary does.

use clap::Parser as _;
use streamplug::cli::{Cli, Command};

/// Run `streamplug plugin ARGS…`: what it printed, and how it ended (the
/// error as the binary prints it, without `error: `; a usage error as clap
/// prints it).
pub async fn streamplug_plugin(args: &[&str]) -> (String, Result<(), String>) {
    let argv = [&["streamplug", "plugin"], args].concat();
    let args = match Cli::try_parse_from(argv).map(|cli| cli.command) {
        Ok(Command::Plugin(args)) => args,
        Ok(other) => {
            return (
                String::new(),
                Err(format!("not a plugin command: {other:?}")),
            );
        }
        Err(usage) => return (String::new(), Err(usage.to_string())),
    };
    let mut out = Vec::new();
    let ended = streamplug::cli::plugin::run(args, &mut out)
        .await
        .map_err(|e| format!("{e:#}"));
    (String::from_utf8_lossy(&out).into_owned(), ended)
}
