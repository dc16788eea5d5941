//! How the `streamplug plugin` commands print what the admin API answers:
//! aligned tables (kubectl-style, no borders, so they read and grep well)
//! and one-line summaries.

use comfy_table::{Table, presets};

use crate::admin::views::VersionView;
use crate::runtime::log_book::LogLine;
use crate::runtime::summary::EffectSummary;
use crate::shadow::ShadowReportView;
use crate::web::deployment_view::DeploymentView;

fn table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING).set_header(header);
    table
}

/// The deployments, one row each.
pub fn plugins(list: &[DeploymentView]) -> String {
    let mut t = table(&[
        "PLUGIN", "VERSION", "STATE", "CANARY", "PREVIOUS", "OK", "RETRY", "REJECT", "TRAP", "DLQ",
    ]);
    for p in list {
        let canary = p.canary.as_ref().map_or_else(
            || "-".to_owned(),
            |c| format!("{} ({:.1}%)", c.version, c.percent),
        );
        let s = &p.stats;
        t.add_row(vec![
            p.name.clone(),
            p.version.clone(),
            p.state.as_str().to_owned(),
            canary,
            p.previous.clone().unwrap_or_else(|| "-".into()),
            s.ok.to_string(),
            s.retry.to_string(),
            s.reject.to_string(),
            s.trap.to_string(),
            s.dead_lettered.to_string(),
        ]);
    }
    t.to_string()
}

/// The stored versions of a plugin, newest last.
pub fn versions(list: &[VersionView]) -> String {
    let mut t = table(&["VERSION", "ROLE", "UPLOADED", "SIZE", "SOURCE", "DIGEST"]);
    for v in list {
        t.add_row(vec![
            v.id.clone(),
            v.role().to_owned(),
            v.uploaded_at.clone(),
            size(v.size),
            v.source.clone(),
            v.digest.clone(),
        ]);
    }
    t.to_string()
}

/// A deployment in one line: what is live, the canary, the state.
pub fn deployment(d: &DeploymentView) -> String {
    let mut line = format!("{}: {} live ({})", d.name, d.version, d.state.as_str());
    if let Some(c) = &d.canary {
        line += &format!(", canary {} on {:.1}% of keys", c.version, c.percent);
    }
    if let Some(s) = &d.shadow {
        line += &format!(", shadow {} on {:.1}% of keys", s.version, s.percent);
    }
    if let Some(previous) = &d.previous {
        line += &format!(", previous {previous}");
    }
    line
}

/// A shadow report: the counts, then the latest `limit` differences, each
/// side by side.
pub fn shadow_report(report: &ShadowReportView, limit: usize) -> String {
    let o = &report.shadow_outcomes;
    let mut out = format!(
        "shadow {} against live {}: {} events compared, {} the same, {} different\nshadow outcomes: ok {}, retry {}, reject {}, trap {}\n",
        report.version,
        report.live.as_deref().unwrap_or("-"),
        report.compared,
        report.same,
        report.different,
        o.ok,
        o.retry,
        o.reject,
        o.trap,
    );
    for d in report.differences.iter().rev().take(limit) {
        out += &format!(
            "\nevent {} ({}, key {})\n",
            d.event,
            d.ty,
            d.key.as_deref().unwrap_or("-")
        );
        out += &effects("live", &d.live);
        out += &effects("shadow", &d.shadow);
    }
    out
}

/// One side of a difference: outcome, then one line per effect.
fn effects(side: &str, s: &EffectSummary) -> String {
    let mut out = format!("  {side:<6} {}", s.outcome);
    if let Some(reason) = &s.reason {
        out += &format!(": {reason}");
    }
    out.push('\n');
    for p in &s.publishes {
        out += &format!(
            "         publish {} {} {}\n",
            p.topic.as_deref().unwrap_or("-"),
            p.ty,
            p.data
        );
    }
    for p in &s.pushes {
        out += &format!(
            "         push    {} to {} {} {}\n",
            p.channel.as_deref().unwrap_or("-"),
            p.key.as_deref().unwrap_or("-"),
            p.ty,
            p.data
        );
    }
    for (key, value) in &s.kv {
        out += &format!("         kv      {key} = {value}\n");
    }
    for h in &s.http {
        out += &format!("         http    {} {}\n", h.method, h.url);
    }
    out
}

/// Log lines, one per line.
pub fn log_lines(lines: &[LogLine]) -> String {
    let mut out = String::new();
    for l in lines {
        out += &format!(
            "{} {:<5} {} {} {}: {}\n",
            l.at,
            l.level.to_uppercase(),
            l.version,
            l.event.as_deref().unwrap_or("-"),
            l.source,
            l.message
        );
    }
    out
}

/// `bytes` for people (binary units, as the gateway's own messages write
/// them).
pub fn size(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn tables_show_what_runs() {
        // As the admin API writes it: the client reads this very JSON.
        let stats = json!({"ok": 5, "retry": 0, "reject": 1, "trap": 2, "dead_lettered": 1});
        let list: Vec<DeploymentView> = serde_json::from_value(json!([{
            "name": "recommend", "version": "abc", "digest": "sha256:00", "state": "running",
            "canary": {"version": "def", "digest": "sha256:01", "percent": 10.0, "policy": {},
                "started_at": "2026-12-05T07:00:00.000Z", "stats": stats},
            "previous": null, "subscribe": [], "types": [], "publish": [], "push_channels": [],
            "allowed_hosts": [], "dead_letter_topic": "dlq.recommend", "limits": {}, "retry": {},
            "idle_instances": 2, "stats": stats, "shadow": null, "partitions": {}, "history": []
        }]))
        .unwrap();
        let text = plugins(&list);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].trim_start().starts_with("PLUGIN"), "{text}");
        assert!(
            lines[1].contains("recommend") && lines[1].contains("def (10.0%)"),
            "{text}"
        );
        assert_eq!(
            deployment(&list[0]),
            "recommend: abc live (running), canary def on 10.0% of keys"
        );
        assert_eq!(size(3 * 1024 * 1024 / 2), "1.50 MiB");
        assert_eq!(size(10), "10 B");
    }
}
