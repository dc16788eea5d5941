//! `streamplug init`: a commented production configuration (Kafka, Redis,
//! keys, retention, the admin listener, the built-in recommender) and an
//! environment file holding fresh secrets for it, readable by its owner only.
//! `streamplug config --check` then checks both together.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::auth::api_keys;

/// The configuration `init` writes (`host/src/config/production.toml`).
pub const PRODUCTION_CONFIG: &str = include_str!("../config/production.toml");

/// Where the production configuration keeps its data unless told otherwise.
const DATA_DIR: &str = "/var/lib/streamplug";

/// `streamplug init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where the configuration goes.
    #[arg(long, default_value = "streamplug.toml")]
    pub config: PathBuf,
    /// Where the environment file with the secrets goes (mode 0600).
    #[arg(long, default_value = "streamplug.env")]
    pub env_file: PathBuf,
    /// The data directory written into the configuration.
    #[arg(long, default_value = DATA_DIR)]
    pub data_dir: PathBuf,
    /// Replace the files when they exist.
    #[arg(long)]
    pub force: bool,
    /// Write the configuration only, no environment file (an image build
    /// must not bake secrets into a layer).
    #[arg(long, conflicts_with = "env_file")]
    pub config_only: bool,
}

/// Why `init` wrote nothing, or not everything.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// A file is there already.
    #[error("{} exists; pass --force to replace it", .0.display())]
    Exists(PathBuf),
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No randomness for the secrets.
    #[error("cannot make a secret: {0}")]
    Random(#[from] getrandom::Error),
    /// The data directory cannot be written into TOML as a string.
    #[error("--data-dir must be UTF-8 without `\"` or `\\`")]
    DataDir,
}

/// Write both files; what was written and what to do next.
pub fn run(args: &InitArgs) -> Result<String, InitError> {
    let env_file = (!args.config_only).then_some(&args.env_file);
    if !args.force {
        for path in std::iter::once(&args.config).chain(env_file) {
            if path.exists() {
                return Err(InitError::Exists(path.clone()));
            }
        }
    }
    let config = configuration(&args.data_dir)?;
    write(&args.config, config.as_bytes(), 0o644)?;
    if args.config_only {
        return Ok(format!(
            "wrote {} (the configuration); give it the environment its `${{NAME}}`s name.\n",
            args.config.display()
        ));
    }
    let env = environment()?;
    write(&args.env_file, env.as_bytes(), 0o600)?;
    Ok(format!(
        "wrote {config} (the configuration) and {env} (its secrets, readable by you only).\n\
         Point STREAMPLUG_KAFKA_BROKERS and STREAMPLUG_REDIS_URL in {env} at your cluster, then:\n\
         \n  set -a; . {env}; set +a\n  streamplug config --check --config {config}\n  \
         streamplug serve --config {config}\n",
        config = args.config.display(),
        env = args.env_file.display(),
    ))
}

/// The production configuration with `data_dir` in it.
pub fn configuration(data_dir: &Path) -> Result<String, InitError> {
    let dir = data_dir.to_str().ok_or(InitError::DataDir)?;
    if dir.contains(['"', '\\']) {
        return Err(InitError::DataDir);
    }
    Ok(PRODUCTION_CONFIG.replacen(
        &format!("data_dir = \"{DATA_DIR}\""),
        &format!("data_dir = \"{dir}\""),
        1,
    ))
}

/// The environment file: fresh secrets, and the addresses to fill in.
fn environment() -> Result<String, InitError> {
    Ok(format!(
        "# The secrets and addresses of streamplug.toml (`streamplug init`).\n\
         # Keep this file private: systemd reads it as EnvironmentFile.\n\
         STREAMPLUG_JWT_SECRET={jwt}\n\
         # The shop backend's API key (send it as `Authorization: Bearer <key>`).\n\
         STREAMPLUG_BACKEND_KEY={backend}\n\
         STREAMPLUG_ADMIN_TOKEN={admin}\n\
         # Your Kafka brokers (host:port, comma-separated) and Redis.\n\
         STREAMPLUG_KAFKA_BROKERS=127.0.0.1:9092\n\
         STREAMPLUG_REDIS_URL=redis://127.0.0.1:6379\n",
        jwt = api_keys::generate()?,
        backend = api_keys::generate()?,
        admin = api_keys::generate()?,
    ))
}

fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), InitError> {
    let failed = |source| InitError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(failed)?;
    // An existing file (with --force) keeps its mode unless set again.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(failed)?;
    }
    file.write_all(bytes).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_production_configuration_parses_and_keeps_the_demo_off() {
        let text = configuration(Path::new("/srv/streamplug")).unwrap();
        let settings = crate::config::Settings::from_toml(&text).unwrap();
        if let Err(e) = settings.validate_without_files() {
            // Only the environment may be missing here, never the shape.
            assert!(e.to_string().contains("environment variable"), "{e}");
        }
        assert_eq!(settings.storage.data_dir, Path::new("/srv/streamplug"));
        assert!(!settings.auth.dev_tokens && !settings.auth.demo_key);
        assert_eq!(settings.log.backend, crate::config::LogBackend::Kafka);
        assert_eq!(settings.kv.backend, crate::config::KvBackend::Redis);
        assert!(
            settings
                .plugins
                .iter()
                .all(|p| crate::builtin::name_in(&p.wasm).is_some())
        );
        assert!(configuration(Path::new("/a\"b")).is_err());
    }

    #[test]
    fn init_writes_private_secrets_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let args = InitArgs {
            config: dir.path().join("streamplug.toml"),
            env_file: dir.path().join("streamplug.env"),
            data_dir: dir.path().join("data"),
            force: false,
            config_only: false,
        };
        run(&args).unwrap();
        let env = std::fs::read_to_string(&args.env_file).unwrap();
        assert!(env.contains("STREAMPLUG_JWT_SECRET=spk_"), "{env}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&args.env_file)
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = run(&args).unwrap_err().to_string();
        assert!(again.contains("--force"), "{again}");
        run(&InitArgs {
            force: true,
            ..args
        })
        .unwrap();
    }
}
