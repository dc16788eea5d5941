//! `streamplug:plugin/log`: plugin log lines into the gateway's tracing
//! output, under the `streamplug::plugin` target with the plugin's name,
//! version and the id of the event being handled, and into the plugin's
//! log book (what `GET /admin/v1/plugins/{name}/logs` shows). Error lines
//! also join the instance's output tail that trap reasons quote.

use crate::runtime::bindings::streamplug::plugin::log::{Host, Level};
use crate::runtime::log_book::LineOf;
use crate::runtime::state::StoreState;

/// Longest plugin log line kept; the rest is cut.
const MAX_LINE: usize = 4096;

/// Counter of plugin log lines dropped over `log_lines_per_second`, by plugin.
pub const DROPPED: &str = "streamplug_plugin_log_lines_dropped_total";

impl Host for StoreState {
    async fn log(&mut self, level: Level, message: String) {
        if let Some(rate) = &self.plugin.log_rate
            && rate.check().is_err()
        {
            metrics::counter!(DROPPED, "plugin" => self.plugin.name.clone()).increment(1);
            return;
        }
        let mut message = message;
        if message.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let plugin = self.plugin.name.as_str();
        let version = self.plugin.version.as_str();
        let event = self.effects.trigger.id.as_str();
        // One tracing event at the plugin's level; the level's name for the
        // log book.
        macro_rules! emit {
            ($lvl:ident, $name:literal) => {{
                tracing::event!(target: "streamplug::plugin", tracing::Level::$lvl, plugin, version, event, "{message}");
                $name
            }};
        }
        let name = match level {
            Level::Trace => emit!(TRACE, "trace"),
            Level::Debug => emit!(DEBUG, "debug"),
            Level::Info => emit!(INFO, "info"),
            Level::Warn => emit!(WARN, "warn"),
            Level::Error => emit!(ERROR, "error"),
        };
        if matches!(level, Level::Error) {
            // What a plugin logs as an error before it traps belongs in the
            // trap's reason, like a panic message on stderr (runtimes such as
            // componentize-js have no stderr to write an exception to).
            self.stderr.note(&format!("error log: {message}\n"));
        }
        let of = LineOf {
            plugin,
            version,
            event,
            source: "plugin",
        };
        self.plugin.logs.record(of, name, &message);
    }
}
