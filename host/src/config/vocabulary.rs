//! `[vocabulary]`: the event types a deployment accepts. The standard
//! e-commerce set is built in; a directory of type files (one JSON Schema
//! 2020-12 per type, metadata in `x-streamplug`; see
//! `streamplug_wire::event::type_file`) adds types or replaces standard
//! ones.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::event::vocabulary::Vocabulary;

/// `[vocabulary]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VocabularySettings {
    /// A directory of type files (`*.json`, read in name order), relative
    /// to the working directory; none by default.
    pub dir: Option<PathBuf>,
    /// Start from the standard e-commerce types (`false`: only the
    /// directory's).
    pub standard: bool,
}

impl Default for VocabularySettings {
    fn default() -> Self {
        Self {
            dir: None,
            standard: true,
        }
    }
}

impl VocabularySettings {
    /// The vocabulary these settings name, each schema compiled.
    pub fn load(&self) -> Result<Arc<Vocabulary>, super::ConfigError> {
        if self.standard && self.dir.is_none() {
            return Ok(Vocabulary::shared_standard().clone());
        }
        Ok(Arc::new(Vocabulary::load(
            self.standard,
            self.dir.as_deref(),
        )?))
    }
}

/// The vocabulary loaded from `[vocabulary]` when the settings were read
/// (the standard set until then).
#[derive(Debug, Clone)]
pub struct EventTypes(pub Arc<Vocabulary>);

impl Default for EventTypes {
    fn default() -> Self {
        Self(Vocabulary::shared_standard().clone())
    }
}

impl std::ops::Deref for EventTypes {
    type Target = Vocabulary;

    fn deref(&self) -> &Vocabulary {
        &self.0
    }
}
