//! Scheduled work, on one scheduler in the fund's time zone (`cob.time_zone`): the nightly close of business
//! (`[cob]`) and, on the embedded SQLite database, the daily backup (`[backup]`); the two share a lock so they
//! never run at the same moment. The mail worker has its own loop (`crate::mail::worker`).

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::{
    app::{backups, cob, Caller},
    state::AppState,
    store,
};

/// Starts the scheduler with the close-of-business job and the backup job, each when enabled; `None` when
/// neither is. Keep the returned scheduler alive; call `shutdown` on it when the service stops.
pub async fn start(state: AppState) -> anyhow::Result<Option<JobScheduler>> {
    let cob_settings = state.settings.cob.clone();
    let backup_on = state.settings.backup.enabled && store::is_sqlite(&state.db);
    if !cob_settings.enabled && !backup_on {
        return Ok(None);
    }
    let tz: chrono_tz::Tz = cob_settings
        .time_zone
        .parse()
        .map_err(|_| anyhow::anyhow!("configuration key `cob.time_zone`: unknown time zone"))?;
    let scheduler = JobScheduler::new().await?;
    if cob_settings.enabled {
        let state = state.clone();
        let job = Job::new_async_tz(cob_settings.cron.as_str(), tz, move |_id, _scheduler| {
            let state = state.clone();
            Box::pin(async move { run_nightly(&state).await })
        })
        .map_err(|e| anyhow::anyhow!("configuration key `cob.cron`: {e}"))?;
        scheduler.add(job).await?;
    }
    if backup_on {
        let cron = state.settings.backup.cron.clone();
        let job = Job::new_async_tz(cron.as_str(), tz, move |_id, _scheduler| {
            let state = state.clone();
            Box::pin(async move { run_backup(&state).await })
        })
        .map_err(|e| anyhow::anyhow!("configuration key `backup.cron`: {e}"))?;
        scheduler.add(job).await?;
    }
    scheduler.start().await?;
    Ok(Some(scheduler))
}

/// Closes every business date through today (the job runs late in the evening); catches up
/// missed days after downtime. Failures are logged and recorded in `cob_runs`.
#[tracing::instrument(name = "nightly close of business", skip_all)]
async fn run_nightly(state: &AppState) {
    let through = state.ctx.today();
    match cob::run_through(
        &state.ctx,
        &Caller::system_named("cob"),
        through,
        cob::Trigger::Schedule,
    )
    .await
    {
        Ok(outcome) => {
            tracing::info!(ran = outcome.ran, business_date = %outcome.business_date, "{}", outcome.message)
        }
        Err(err) => tracing::error!(error = %err, "scheduled close of business failed"),
    }
}

/// The daily backup; its result is logged, recorded in `backup_runs` and, when it fails, mailed to the admins.
#[tracing::instrument(name = "scheduled backup", skip_all)]
async fn run_backup(state: &AppState) {
    // The outcome is recorded and logged inside; nothing more to do with it here.
    let _ = backups::run_scheduled(
        &state.db,
        &state.settings.database.url,
        &state.settings.backup,
        "schedule",
    )
    .await;
}
