//! `streamplug keys new --name NAME --scope SCOPE…`: a fresh API key and the
//! configuration table that grants it, holding only the key's SHA-256.

use clap::{Args, Subcommand};

use crate::auth::{Scopes, api_keys};

/// `streamplug keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// Key subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a key.
    New {
        /// Who holds it (shown in logs and limits).
        #[arg(long)]
        name: String,
        /// A grant: `ingest:<type or prefix.*>`, `read:<topic or *>`,
        /// `reply`, `metrics`, `plugins` or `operator`; repeat for more.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
}

/// The key and its configuration table, as printed.
pub fn run(args: &KeysArgs) -> Result<String, String> {
    let KeysCommand::New { name, scopes } = &args.command;
    Scopes::parse(scopes)?;
    if name.is_empty() || name.contains('"') {
        return Err("--name must be non-empty and hold no `\"`".into());
    }
    let key = api_keys::generate().map_err(|e| e.to_string())?;
    let scopes: Vec<String> = scopes.iter().map(|s| format!("{s:?}")).collect();
    Ok(format!(
        "# The key (shown once; give it to `{name}`, send it as `Authorization: Bearer <key>`):\n\
         # {key}\n\
         [[auth.api_keys]]\n\
         name = \"{name}\"\n\
         sha256 = \"{}\"\n\
         scopes = [{}]\n",
        api_keys::hex_digest(&key),
        scopes.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_comes_with_the_table_that_grants_it() {
        let args = KeysArgs {
            command: KeysCommand::New {
                name: "shop".into(),
                scopes: vec!["ingest:order.*".into(), "reply".into()],
            },
        };
        let text = run(&args).unwrap();
        let key = text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("# "))
            .unwrap();
        let table: toml::Table = toml::from_str(&text).unwrap();
        let entry = &table["auth"]["api_keys"][0];
        assert_eq!(
            entry["sha256"].as_str(),
            Some(api_keys::hex_digest(key).as_str())
        );
        assert_eq!(entry["scopes"][1].as_str(), Some("reply"));
        let bad = KeysArgs {
            command: KeysCommand::New {
                name: "x".into(),
                scopes: vec!["root".into()],
            },
        };
        assert!(run(&bad).is_err());
    }
}
