//! One plugin consuming one partition index: read a batch (of one topic, or
//! of all the plugin's topics merged in append order) from the committed
//! offsets, hand each event to the plugin, retry with backoff or
//! dead-letter what fails, then commit the batch's effects and offsets as
//! one unit (a batch without effects commits its offsets later: see
//! [`Progress`]). Between batches it fires the partition's due timers
//! ([`PartitionTimers`]) through the same path: a fired timer is handled,
//! retried or dead-lettered like an event, and its record is deleted in
//! the commit of the effects of handling it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::BATCH_SIZE;
use super::command_outcome;
use super::dead_letter::{self, note};
use super::partition_timers::PartitionTimers;
use super::progress::Progress;
use crate::event::StoredEvent;
use crate::registry::Registry;
use crate::runtime::effects::{Effects, Trigger};
use crate::runtime::plugin::Outcome;
use crate::stages::{self, Stage};
use crate::storage::{ConsumerCommit, EventLog, PartitionStream, StorageError};

/// Counter of plugin invocations by plugin and outcome.
pub const INVOCATIONS: &str = "streamplug_plugin_invocations_total";

/// The consumer of one (plugin, partition index).
pub struct PartitionWorker {
    /// Plugin name.
    pub plugin: String,
    /// The partition's events (of every topic the plugin reads).
    pub stream: Box<dyn PartitionStream>,
    /// Where batches commit.
    pub log: Arc<dyn EventLog>,
    /// Where the plugin version is looked up for each event attempt.
    pub registry: Arc<Registry>,
    /// Becomes `true` when the worker must stop (shutdown, or its partition
    /// moves to another member); it finishes and commits its batch first.
    pub stop: watch::Receiver<bool>,
    /// How far it got, per topic handled so far.
    pub progress: Progress,
    /// The partition's pending timers, loaded when the worker starts.
    pub timers: Option<PartitionTimers>,
}

/// What a worker waiting between batches woke up for.
enum Wake {
    Batch(Result<Vec<StoredEvent>, StorageError>),
    TimersDue,
    CommitDue,
    Stop,
}

enum Handled {
    /// Committed through this offset (exclusive); go on.
    Continue,
    /// Stopping.
    Stop,
}

impl PartitionWorker {
    /// Consume until told to stop, then commit how far it got.
    pub async fn run(mut self) {
        let Some(group) = self
            .registry
            .get(&self.plugin)
            .map(|p| p.manifest.consumer_group())
        else {
            return;
        };
        self.consume(&group).await;
        if self.progress.is_ahead() {
            self.commit(&group, &mut Effects::default()).await;
        }
    }

    async fn consume(&mut self, group: &str) {
        if !self.load_timers().await {
            return;
        }
        loop {
            if *self.stop.borrow() {
                return;
            }
            let handled = match self.wake().await {
                Wake::Batch(Ok(batch)) => {
                    // A paused plugin takes no new batch; what was read waits.
                    if !self.wait_while_paused(group).await {
                        return;
                    }
                    self.handle_batch(group, &batch, None).await
                }
                Wake::Batch(Err(e)) => {
                    tracing::warn!(plugin = %self.plugin, partition = self.stream.partition(), error = %e, "cannot read the log");
                    if self.pause(Duration::from_secs(1)).await {
                        return;
                    }
                    continue;
                }
                Wake::TimersDue => self.fire_due_timers(group).await,
                Wake::CommitDue => match self.commit(group, &mut Effects::default()).await {
                    true => Handled::Continue,
                    false => Handled::Stop,
                },
                Wake::Stop => return,
            };
            if let Handled::Stop = handled {
                return;
            }
        }
    }

    /// Wait for the next batch, a due timer, the position's commit being
    /// due, or the stop, whichever comes first.
    async fn wake(&mut self) -> Wake {
        let next_due = self.timers.as_ref().and_then(PartitionTimers::next_due_ms);
        let until_due = next_due
            .map(|due| Duration::from_millis(due.saturating_sub(crate::storage::millis_now())));
        let commit_due = self.progress.commit_due(self.commit_interval());
        tokio::select! {
            batch = self.stream.next_batch(BATCH_SIZE) => Wake::Batch(batch),
            () = tokio::time::sleep(until_due.unwrap_or_default()), if until_due.is_some() => Wake::TimersDue,
            () = tokio::time::sleep_until(commit_due.unwrap_or_else(Instant::now).into()), if commit_due.is_some() => Wake::CommitDue,
            _ = self.stop.wait_for(|stop| *stop) => Wake::Stop,
        }
    }

    /// Load the partition's pending timers, retrying while the store is
    /// unavailable; `false` if a stop (or the plugin's removal) came first.
    async fn load_timers(&mut self) -> bool {
        let partition = self.stream.partition();
        loop {
            let Some(version) = self.registry.get(&self.plugin) else {
                return false;
            };
            let context = &version.context;
            match PartitionTimers::load(
                &*context.kv,
                &self.plugin,
                partition,
                context.timers.clone(),
            )
            .await
            {
                Ok(timers) => {
                    self.timers = Some(timers);
                    return true;
                }
                Err(e) => {
                    tracing::warn!(plugin = %self.plugin, partition, error = %e, "cannot load the partition's timers; retrying");
                }
            }
            if self.pause(Duration::from_secs(1)).await {
                return false;
            }
        }
    }

    /// Handle the timers due now as one batch (none while paused).
    async fn fire_due_timers(&mut self, group: &str) -> Handled {
        if !self.wait_while_paused(group).await {
            return Handled::Stop;
        }
        let due = self
            .timers
            .as_ref()
            .map(|t| t.due(crate::storage::millis_now(), BATCH_SIZE))
            .unwrap_or_default();
        let (keys, events): (Vec<String>, Vec<StoredEvent>) = due
            .into_iter()
            .map(|(key, record)| (key, record.event(&self.plugin)))
            .unzip();
        self.handle_batch(group, &events, Some(&keys)).await
    }

    /// Wait while the plugin is paused; `false` when the worker must stop
    /// instead (a stop signal, or the plugin was removed).
    async fn wait_while_paused(&mut self, group: &str) -> bool {
        let mut changes = self.registry.changes();
        loop {
            match self.registry.deployment(&self.plugin) {
                None => return false,
                Some(d) if !d.paused => return true,
                // A pause may be long: the position does not wait with it.
                Some(_) if self.progress.is_ahead() => {
                    if !self.commit(group, &mut Effects::default()).await {
                        return false;
                    }
                    continue;
                }
                Some(_) => {}
            }
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return false },
                _ = self.stop.wait_for(|stop| *stop) => return false,
            }
        }
    }

    /// Handle `batch`, each attempt on the version live when it starts
    /// (a swap takes effect at the next event); commits as it goes and
    /// advances `progress`. `fired` holds the record keys of a batch of
    /// fired timers (one per event), which advance no offset.
    async fn handle_batch(
        &mut self,
        group: &str,
        batch: &[StoredEvent],
        fired: Option<&[String]>,
    ) -> Handled {
        let mut effects = Effects::default();
        for (i, stored) in batch.iter().enumerate() {
            let timer = fired.and_then(|keys| keys.get(i));
            // A timer this batch already rescheduled or cancelled is
            // decided by that write.
            if timer.is_some_and(|key| effects.accepted.kv.contains_key(key)) {
                continue;
            }
            effects.trigger = Trigger::of_stored(stored);
            if timer.is_none()
                && let Some(waited) = self.stream.visible_for(stored)
            {
                stages::record(Stage::Pickup, waited);
            }
            let key = routing_key(stored);
            let mut attempt = 1;
            loop {
                let Some(version) = self.registry.route(&self.plugin, key) else {
                    // Removed: keep what the batch achieved, then stop.
                    self.commit(group, &mut effects).await;
                    return Handled::Stop;
                };
                let manifest = &version.manifest;
                if timer.is_none() && !manifest.wants(&stored.event.ty) {
                    break;
                }
                let started = Instant::now();
                let (outcome, fx) = version.handle(stored, effects).await;
                stages::since(Stage::Handle, started);
                effects = fx;
                version.stats.record(&outcome);
                if matches!(outcome, Outcome::Ok | Outcome::Reject(_))
                    && let Some(shadow) = self.registry.shadow_for(&self.plugin, key)
                {
                    let live = (version.as_ref(), &outcome, &effects);
                    crate::shadow::compare(&shadow.version, &shadow.report, stored, live).await;
                }
                metrics::counter!(INVOCATIONS, "plugin" => self.plugin.clone(), "outcome" => outcome_label(&outcome))
                    .increment(1);
                let failure = match outcome {
                    Outcome::Ok => {
                        command_outcome::settle(&version, stored, &mut effects);
                        effects.accept_current();
                        break;
                    }
                    Outcome::Reject(reason) => {
                        effects.discard_current();
                        dead_letter::stage(
                            &version,
                            stored,
                            &mut effects,
                            &format!("rejected: {reason}"),
                            attempt,
                        );
                        break;
                    }
                    Outcome::Retry(reason) => format!("retry requested: {reason}"),
                    Outcome::Trap(reason) => format!("trapped: {reason}"),
                };
                effects.discard_current();
                tracing::debug!(plugin = %self.plugin, event = %stored.event.id, attempt, %failure, "event not handled");
                note(
                    &version,
                    stored,
                    "warn",
                    &format!("attempt {attempt}: {failure}"),
                );
                if attempt >= manifest.retry.max_attempts {
                    dead_letter::stage(&version, stored, &mut effects, &failure, attempt);
                    break;
                }
                // Commit what this batch achieved before waiting, so a long
                // backoff holds nothing back.
                if !self.commit(group, &mut effects).await {
                    return Handled::Stop;
                }
                attempt += 1;
                if self.pause(manifest.retry.backoff(attempt)).await {
                    return Handled::Stop;
                }
                // Paused meanwhile: the next attempt waits for the resume
                // (removed: the lookup above ends the batch).
                if self.registry.get(&self.plugin).is_some() && !self.wait_while_paused(group).await
                {
                    return Handled::Stop;
                }
            }
            match timer {
                // Fired (handled or dead-lettered): its record goes in the
                // same commit, unless the handler scheduled it again.
                Some(key) => {
                    effects.accepted.kv.entry(key.clone()).or_insert(None);
                }
                None => self.progress.passed(&stored.event.topic, stored.offset),
            }
        }
        // Nothing to be atomic with: the position is committed later.
        let later = !effects.accepted.commits_now() && !self.commit_interval().is_zero();
        if later || self.commit(group, &mut effects).await {
            Handled::Continue
        } else {
            Handled::Stop
        }
    }

    /// Commit the accepted effects with the progress so far, retrying while
    /// the store is unavailable. `false` when a stop came first (nothing of
    /// the batch is committed then, so it is delivered again on restart).
    async fn commit(&mut self, group: &str, effects: &mut Effects) -> bool {
        let accepted = std::mem::take(&mut effects.accepted);
        let partition = self.stream.partition();
        let commit = ConsumerCommit {
            group: group.to_owned(),
            offsets: self.progress.offsets(partition),
            publish: accepted.publishes,
            kv_namespace: self.plugin.clone(),
            kv_writes: accepted.kv.into_iter().collect(),
        };
        loop {
            let started = Instant::now();
            match self.log.commit(commit.clone()).await {
                Ok(_) => {
                    stages::since(Stage::Commit, started);
                    self.progress.committed();
                    if let Some(timers) = &mut self.timers {
                        timers.apply(&commit.kv_writes);
                    }
                    return true;
                }
                Err(e @ StorageError::UnknownTopic(_)) => {
                    // Only a misconfiguration gets here (topics are created at start).
                    tracing::error!(plugin = %self.plugin, error = %e, "commit refused");
                }
                Err(e) => {
                    tracing::warn!(plugin = %self.plugin, error = %e, "commit failed; retrying")
                }
            }
            if self.pause(Duration::from_secs(1)).await {
                return false;
            }
        }
    }

    /// The live version's commit interval (none once the plugin is gone).
    fn commit_interval(&self) -> Duration {
        self.registry
            .get(&self.plugin)
            .map_or(Duration::ZERO, |version| version.manifest.commit_interval())
    }

    /// Sleep for `duration`; `true` if a stop came first.
    async fn pause(&mut self, duration: Duration) -> bool {
        let stopped = tokio::select! {
            _ = tokio::time::sleep(duration) => false,
            _ = self.stop.wait_for(|stop| *stop) => true,
        };
        stopped || *self.stop.borrow()
    }
}

/// What a canary splits on: the event's key (the customer), else its
/// subject, else its id.
fn routing_key(stored: &StoredEvent) -> &str {
    let event = &stored.event;
    event
        .key
        .as_deref()
        .or(event.subject.as_deref())
        .unwrap_or(&event.id)
}

fn outcome_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "ok",
        Outcome::Retry(_) => "retry",
        Outcome::Reject(_) => "reject",
        Outcome::Trap(_) => "trap",
    }
}
