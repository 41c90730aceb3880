//! Scheduled work: the nightly close of business on a cron schedule in the fund's time zone
//! (`[cob]` in the configuration). The mail worker has its own loop (`crate::mail::worker`).

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::{
    app::{cob, Caller},
    state::AppState,
};

/// Starts the scheduler with the close-of-business job; `None` when `cob.enabled` is false.
/// Keep the returned scheduler alive; call `shutdown` on it when the service stops.
pub async fn start(state: AppState) -> anyhow::Result<Option<JobScheduler>> {
    let settings = state.settings.cob.clone();
    if !settings.enabled {
        return Ok(None);
    }
    let tz: chrono_tz::Tz = settings
        .time_zone
        .parse()
        .map_err(|_| anyhow::anyhow!("configuration key `cob.time_zone`: unknown time zone"))?;
    let scheduler = JobScheduler::new().await?;
    let job = Job::new_async_tz(settings.cron.as_str(), tz, move |_id, _scheduler| {
        let state = state.clone();
        Box::pin(async move { run_nightly(&state).await })
    })
    .map_err(|e| anyhow::anyhow!("configuration key `cob.cron`: {e}"))?;
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(Some(scheduler))
}

/// Closes every business date through today (the job runs late in the evening); catches up
/// missed days after downtime. Failures are logged and recorded in `cob_runs`.
async fn run_nightly(state: &AppState) {
    let through = state.today();
    match cob::run_through(
        state,
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
