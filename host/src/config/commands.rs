//! A plugin's `commands`: the command types it processes. Each must be a
//! command of the vocabulary (`"kind": "command"`), reach the plugin (its
//! topic subscribed, its type among those the plugin takes), and have no
//! other processor, so that exactly one plugin decides each command.

use super::validate::invalid;
use super::{ConfigError, PluginManifest, Settings};

impl Settings {
    /// Check `p`'s `commands` against the vocabulary, its subscriptions
    /// and the other configured plugins.
    pub(super) fn validate_commands(&self, p: &PluginManifest) -> Result<(), ConfigError> {
        if p.commands.is_empty() {
            return Ok(());
        }
        let at = format!("plugins.{}.commands", p.name);
        let router = self.router();
        for (i, ty) in p.commands.iter().enumerate() {
            if p.commands[..i].contains(ty) {
                return Err(invalid(&at, format!("`{ty}` is listed twice")));
            }
            let Some(t) = self.event_types.lookup(ty) else {
                return Err(invalid(&at, format!("unknown event type `{ty}`")));
            };
            if t.kind != crate::event::vocabulary::Kind::Command {
                return Err(invalid(
                    &at,
                    format!(
                        "`{ty}` is an event, not a command (a command's type file says `\"kind\": \"command\"`)"
                    ),
                ));
            }
            match router.topic_for(ty) {
                Some(topic) if p.subscribe.iter().any(|s| s == topic) => {}
                Some(topic) => {
                    return Err(invalid(
                        &at,
                        format!(
                            "`{ty}` is routed to `{topic}`, which the plugin does not subscribe to"
                        ),
                    ));
                }
                None => {
                    return Err(invalid(
                        &at,
                        format!("`{ty}` is routed to no topic; route it in `[routes]`"),
                    ));
                }
            }
            if !p.wants(ty) {
                return Err(invalid(
                    &at,
                    format!("`{ty}` is not among the plugin's `types`"),
                ));
            }
            if let Some(other) = self
                .plugins
                .iter()
                .find(|o| o.name != p.name && o.processes(ty))
            {
                return Err(invalid(
                    &at,
                    format!(
                        "`{ty}` is already processed by plugin `{}`; a command has one processor",
                        other.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMAND: &str = r#"{
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": "Please cancel this order.",
        "x-streamplug": {"type": "order.cancel.requested", "version": 1, "origin": "customer",
                         "kind": "command", "topic": "commands"},
        "type": "object",
        "properties": {"order": {"type": "string"}},
        "required": ["order"]
    }"#;

    fn configured(plugins: &str) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cancel.json"), COMMAND).unwrap();
        let text = format!(
            "[vocabulary]\ndir = {:?}\n{plugins}",
            dir.path().display().to_string()
        );
        let settings = Settings::from_toml(&text)?;
        settings.validate_without_files()?;
        Ok(settings)
    }

    fn plugin(name: &str, subscribe: &str, extra: &str) -> String {
        format!(
            "[[plugins]]\nname = \"{name}\"\nwasm = \"x.wasm\"\nsubscribe = [\"{subscribe}\"]\n{extra}\n"
        )
    }

    #[test]
    fn a_command_has_one_processor_that_reads_its_topic() {
        let one = plugin(
            "orders",
            "commands",
            "commands = [\"order.cancel.requested\"]",
        );
        let settings = configured(&one).unwrap();
        assert!(settings.plugins[0].processes("order.cancel.requested"));
        let cases = [
            (
                plugin("orders", "commands", "commands = [\"order.placed\"]"),
                "is an event, not a command",
            ),
            (
                plugin("orders", "commands", "commands = [\"order.nope\"]"),
                "unknown event type",
            ),
            (
                plugin(
                    "orders",
                    "order-events",
                    "commands = [\"order.cancel.requested\"]",
                ),
                "does not subscribe",
            ),
            (
                plugin(
                    "orders",
                    "commands",
                    "types = [\"order.placed\"]\ncommands = [\"order.cancel.requested\"]",
                ),
                "not among the plugin's `types`",
            ),
            (
                plugin(
                    "orders",
                    "commands",
                    "commands = [\"order.cancel.requested\", \"order.cancel.requested\"]",
                ),
                "listed twice",
            ),
            (
                format!(
                    "{one}{}",
                    plugin(
                        "other",
                        "commands",
                        "commands = [\"order.cancel.requested\"]"
                    )
                ),
                "a command has one processor",
            ),
        ];
        for (plugins, says) in cases {
            let err = configured(&plugins).unwrap_err().to_string();
            assert!(err.contains(says), "{plugins}: {err}");
        }
    }
}
