//! The diagnosis the app keeps: run every check or one again, and let the channel for new
//! approvals and the archive template follow what it found.

use crate::app_state::AppState;
use crate::contract::ReportFormat;
use crate::error::{CmdResult, CommandError};
use codes::ErrorCode;

impl AppState {
    /// Runs every check (the write checks too when asked); the channel policy follows.
    pub async fn diagnose(&self, write: bool) -> CmdResult<diagnostics::Report> {
        let setup = self.diagnostics_setup(write).await?;
        let report = diagnostics::run_all(&setup).await;
        self.adopt(&report).await;
        Ok(report)
    }

    /// Runs one check again (a full run when there is no diagnosis yet).
    pub async fn rerun_check(&self, id: diagnostics::CheckId) -> CmdResult<diagnostics::Report> {
        use diagnostics::CheckId;
        let setup = self.diagnostics_setup(matches!(id, CheckId::ArchiveWrite | CheckId::TestEmail)).await?;
        let last = self.diagnostics.lock().await.clone();
        let Some(mut report) = last else { return self.diagnose(false).await };
        if !diagnostics::rerun(&setup, &mut report, id).await {
            return Err(CommandError::new(
                ErrorCode::CheckNotRunnable,
                format!("the check {id} cannot run now (not signed in, or no keychain)"),
            ));
        }
        self.adopt(&report).await;
        Ok(report)
    }

    pub async fn last_diagnostics(&self) -> Option<diagnostics::Report> {
        self.diagnostics.lock().await.clone()
    }

    async fn diagnostics_setup(&self, write: bool) -> CmdResult<diagnostics::Setup> {
        let tenant = self.tenant().await?.ok_or_else(|| CommandError::new(ErrorCode::NoTenant, "choose a tenant first"))?;
        let delivery = self.delivery.lock().await.clone();
        let rep = delivery.as_ref().map(|d| d.client.clone());
        let mut setup = crate::diagnose::setup(&tenant, &self.keychain()?, rep, write).await?;
        setup.mailbox = self.mailbox_under_test(delivery.as_deref()).await;
        Ok(setup)
    }

    /// Keeps the diagnosis and lets the channel for new approvals follow it.
    pub(crate) async fn adopt(&self, report: &diagnostics::Report) {
        if let Some(d) = self.delivery.lock().await.clone() {
            let choice = report.channel_for(self.config().channel.unwrap_or_default());
            if choice != d.channel() {
                tracing::info!(channel = choice.channel.as_db(), "channel changed after diagnostics: {}", choice.reason());
                d.set_channel(choice);
            }
            d.set_template(self.effective_template(Some(report)));
        }
        *self.diagnostics.lock().await = Some(report.clone());
    }

    /// The report as Markdown (shaped like the seed analysis) or JSON.
    pub(crate) fn render_report(&self, report: &diagnostics::Report, format: ReportFormat) -> CmdResult<String> {
        match format {
            ReportFormat::Markdown => Ok(diagnostics::markdown(report)),
            ReportFormat::Json => serde_json::to_string_pretty(report).map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string())),
        }
    }

    /// Saves the last report in `dir` (the rep's Downloads folder; else the data directory);
    /// returns the path.
    pub(crate) async fn save_report(&self, dir: Option<std::path::PathBuf>, format: ReportFormat) -> CmdResult<String> {
        let report =
            self.last_diagnostics().await.ok_or_else(|| CommandError::new(ErrorCode::NoDiagnostics, "run the diagnostics first"))?;
        let dir = dir.unwrap_or_else(|| self.data_dir.clone());
        let stamp: String = report.generated_at.chars().filter(char::is_ascii_digit).take(12).collect();
        let ext = match format {
            ReportFormat::Markdown => "md",
            ReportFormat::Json => "json",
        };
        let path = dir.join(format!("so-outbox-diagnostics-{}-{stamp}.{ext}", report.tenant));
        std::fs::write(&path, self.render_report(&report, format)?)
            .map_err(|e| CommandError::new(ErrorCode::SaveFailed, format!("could not save {}: {e}", path.display())))?;
        Ok(path.display().to_string())
    }
}
