//! The readable form of a run's report: one block per event (its outcome,
//! then what it published, pushed, wrote, requested and logged), a summary,
//! the KV state after the run, and the expectations that do not hold.

use std::fmt::Write as _;

use serde_json::Value;

use super::expect::Mismatch;
use super::{EventRun, Report};
use crate::runtime::summary::{EffectSummary, Message};

/// Longest JSON shown on one line; the rest is cut.
const WIDTH: usize = 160;

fn compact(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(WIDTH) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn message(out: &mut String, what: &str, m: &Message) {
    let place = m.topic.as_deref().or(m.channel.as_deref()).unwrap_or("?");
    let key = m
        .key
        .as_deref()
        .map(|k| format!(" key={k}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "    {what:<8}{place} {}{key} {}",
        m.ty,
        compact(&m.data)
    );
}

fn effects(out: &mut String, run: &EventRun, fx: &EffectSummary) {
    for m in &fx.publishes {
        message(out, "publish", m);
    }
    for m in &fx.pushes {
        message(out, "push", m);
    }
    for (key, value) in &fx.kv {
        let _ = match value {
            Value::Null => writeln!(out, "    {:<8}{key}", "kv del"),
            v => writeln!(out, "    {:<8}{key} = {}", "kv set", compact(v)),
        };
    }
    for call in &fx.http {
        let answer = match (call.denied, call.status) {
            (true, _) => "denied: host not granted".to_owned(),
            (false, Some(503)) => "503 (no fixture)".to_owned(),
            (false, Some(status)) => status.to_string(),
            (false, None) => "no answer".to_owned(),
        };
        let _ = writeln!(
            out,
            "    {:<8}{} {} → {answer}",
            "http", call.method, call.url
        );
    }
    for (level, line) in &run.logs {
        let _ = writeln!(out, "    {:<8}{level:<5} {line}", "log");
    }
}

/// The report as text; `mismatches` when an expectations file was given.
pub fn text(report: &Report, mismatches: Option<(usize, &[Mismatch])>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plugin {} (version {})\n",
        report.plugin, report.version
    );
    for warning in &report.warnings {
        let _ = writeln!(out, "warning: {warning}\n");
    }
    let (mut ok, mut failed, mut skipped) = (0, 0, 0);
    let (mut publishes, mut pushes, mut writes, mut requests) = (0, 0, 0, 0);
    for (i, run) in report.events.iter().enumerate() {
        let who = run
            .subject
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        let head = format!("#{} {}{who} (line {}, {})", i + 1, run.ty, run.line, run.id);
        let Some(fx) = &run.effects else {
            skipped += 1;
            let why = run.not_handled.as_deref().unwrap_or_default();
            let _ = writeln!(out, "{head}: not handled: {why}");
            continue;
        };
        let reason = fx
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let _ = writeln!(out, "{head}: {}{reason}", fx.outcome);
        if fx.outcome == "ok" {
            ok += 1;
        } else {
            failed += 1;
        }
        if let Some(trap) = &run.trap {
            for line in trap.lines().skip(1) {
                let _ = writeln!(out, "      {line}");
            }
        }
        effects(&mut out, run, fx);
        publishes += fx.publishes.len();
        pushes += fx.pushes.len();
        writes += fx.kv.len();
        requests += fx.http.len();
    }
    let _ = writeln!(
        out,
        "\nevents: {}, ok: {ok}, not ok: {failed}, not handled: {skipped}; publishes: {publishes}, pushes: {pushes}, KV writes: {writes}, HTTP requests: {requests}",
        report.events.len()
    );
    let _ = writeln!(out, "KV after the run ({} keys):", report.kv.len());
    for (key, value) in &report.kv {
        let _ = writeln!(out, "    {key} = {}", compact(value));
    }
    if let Some((checked, mismatches)) = mismatches {
        if mismatches.is_empty() {
            let _ = writeln!(out, "expectations: all {checked} hold");
        } else {
            let _ = writeln!(
                out,
                "expectations: {} of {checked} do not hold:",
                mismatches.len()
            );
            for m in mismatches {
                let _ = writeln!(
                    out,
                    "    {}: expected {}, got {}",
                    m.at,
                    compact(&m.expected),
                    compact(&m.actual)
                );
            }
        }
    }
    out
}
