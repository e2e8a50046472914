//! Diagnostics from the app's point of view: the same [`diagnostics::Setup`] for the
//! diagnostics screen and for `so-outbox diagnose` (headless), built from the tenant, the
//! keychain and the signed-in rep.

use codes::ErrorCode;
use std::io::Write;
use std::sync::Arc;

use keychain::{Keychain, SecretStore};
use superoffice::{Client, PendingSignIn, SignInRequest};

use crate::cli::{DiagnoseArgs, ReportFormat};
use crate::config::Config;
use crate::error::{CmdResult, CommandError};
use crate::tenant::{self, Tenant};

/// Everything the checks may use. Keychain reads block on D-Bus, so they run off the async
/// workers.
pub async fn setup(tenant: &Arc<Tenant>, keychain: &Arc<Keychain>, rep: Option<Client>, write: bool) -> CmdResult<diagnostics::Setup> {
    let (k, t) = (keychain.clone(), tenant.clone());
    let (smtp, system_user) = tokio::task::spawn_blocking(move || Ok::<_, keychain::Error>((t.relay.settings(&k)?, t.system_user(&k)?)))
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
    let store: Arc<dyn SecretStore + Send + Sync> = keychain.clone();
    Ok(diagnostics::Setup {
        environment: tenant.environment.clone(),
        context_id: tenant.context_id.clone(),
        task_type_id: tenant.task_type_id,
        rep,
        system_user,
        smtp,
        keychain: Some(store),
        resolver: tenant.resolver(),
        write,
        mailbox: None,
    })
}

/// Exit status of `so-outbox diagnose`: a channel that sends by itself works.
pub const EXIT_CAN_SEND: i32 = 0;
/// Only the handoff to the rep's own mail program is left.
pub const EXIT_HANDOFF_ONLY: i32 = 1;
/// The diagnosis could not run (configuration, keychain).
pub const EXIT_NOT_RUN: i32 = 2;

/// `so-outbox diagnose`; returns the exit status.
pub fn run_cli(args: DiagnoseArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("so-outbox diagnose: {e}");
            return EXIT_NOT_RUN;
        }
    };
    match runtime.block_on(diagnose(&args)) {
        Ok(report) => {
            let text = match args.format {
                ReportFormat::Json => serde_json::to_string_pretty(&report).unwrap_or_default(),
                ReportFormat::Markdown => diagnostics::markdown(&report),
                ReportFormat::Text => summary(&report),
            };
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            if report.can_send {
                EXIT_CAN_SEND
            } else {
                EXIT_HANDOFF_ONLY
            }
        }
        Err(e) => {
            eprintln!("so-outbox diagnose: {} ({})", e.message, e.code);
            EXIT_NOT_RUN
        }
    }
}

async fn diagnose(args: &DiagnoseArgs) -> CmdResult<diagnostics::Report> {
    let keychain = Arc::new(Keychain::open(crate::KEYCHAIN_SERVICE)?);
    let (tenant, rep) = if args.demo {
        let t = Arc::new(tenant::start_demo(&keychain).await.map_err(|e| CommandError::new(ErrorCode::DemoFailed, e))?);
        let rep = demo_sign_in(&t, &keychain).await?;
        (t, Some(rep))
    } else {
        let config = match &args.config {
            Some(path) => {
                let bytes =
                    std::fs::read(path).map_err(|e| CommandError::new(ErrorCode::ConfigInvalid, format!("cannot read {path}: {e}")))?;
                serde_json::from_slice::<Config>(&bytes).map_err(|e| CommandError::new(ErrorCode::ConfigInvalid, format!("{path}: {e}")))?
            }
            None => Config::load(&crate::default_data_dir()),
        };
        let c = config.superoffice.as_ref().ok_or_else(|| {
            CommandError::new(ErrorCode::NoTenant, "no tenant is configured: run `so-outbox configure …` first, or use --demo")
        })?;
        let t = Arc::new(tenant::from_config(c).map_err(|e| CommandError::new(ErrorCode::ConfigInvalid, e))?);
        let rep = restore(&t, &keychain).await;
        (t, rep)
    };
    let setup = setup(&tenant, &keychain, rep, args.write).await?;
    Ok(diagnostics::run_all(&setup).await)
}

/// The rep's stored sign-in (refresh token in the keychain), if any; without it the rep's
/// checks are reported as "could not test".
async fn restore(tenant: &Arc<Tenant>, keychain: &Arc<Keychain>) -> Option<Client> {
    let (k, t) = (keychain.clone(), tenant.clone());
    let secret = tokio::task::spawn_blocking(move || t.client_secret(&k)).await.ok()?.ok()?;
    let store: Arc<dyn SecretStore> = keychain.clone();
    match superoffice::Session::restore(tenant.environment.clone(), tenant.client_id.clone(), &tenant.context_id, secret, store).await {
        Ok(Some(s)) => Some(Client::new(s)),
        Ok(None) => None,
        Err(e) => {
            eprintln!("so-outbox diagnose: the stored sign-in could not be resumed ({}); the rep's checks are not testable", e.code());
            None
        }
    }
}

/// Signs the demo rep in headlessly: the simulator's own consent page, answered in-process.
async fn demo_sign_in(tenant: &Arc<Tenant>, keychain: &Arc<Keychain>) -> CmdResult<Client> {
    let pending = PendingSignIn::start(SignInRequest {
        environment: tenant.environment.clone(),
        client_id: tenant.client_id.clone(),
        tenant: Some(tenant.context_id.clone()),
        login_hint: None,
    })
    .await?;
    let url = pending.authorize_url().to_owned();
    let (k, t) = (keychain.clone(), tenant.clone());
    let secret = tokio::task::spawn_blocking(move || t.client_secret(&k))
        .await
        .map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
    let store: Arc<dyn SecretStore> = keychain.clone();
    let finish = tokio::spawn(pending.finish(secret, store, std::time::Duration::from_secs(30)));
    superoffice_sim::browser::consent(&url, true).await.map_err(|e| CommandError::new(ErrorCode::DemoFailed, e.to_string()))?;
    let session = finish.await.map_err(|e| CommandError::new(ErrorCode::Internal, e.to_string()))??;
    Ok(Client::new(session))
}

/// The plain-text summary `so-outbox diagnose` prints without `--json` or `--markdown`.
pub fn summary(r: &diagnostics::Report) -> String {
    let word = |s: diagnostics::Status| match s {
        diagnostics::Status::Pass => "PASS   ",
        diagnostics::Status::Warn => "WARN   ",
        diagnostics::Status::Fail => "FAIL   ",
        diagnostics::Status::Unknown => "UNKNOWN",
    };
    let mut out = format!("SuperOffice Outbox diagnostics for {} ({})\n", r.tenant, r.generated_at);
    let mut columns = vec![("Signed-in rep", &r.rep)];
    if let Some(s) = &r.system_user {
        columns.insert(0, ("System user", s));
    }
    for (title, checks) in columns {
        out.push_str(&format!("\n{title}\n"));
        for c in checks {
            out.push_str(&format!("  {} {:<18} {}\n", word(c.status), c.id, c.evidence.first().map(String::as_str).unwrap_or("")));
            if c.status != diagnostics::Status::Pass {
                if let Some(action) = &c.action {
                    out.push_str(&format!("          {:<18} → {}\n", "", action.english()));
                }
            }
        }
    }
    out.push_str(&format!(
        "\nRecommended channel: {} ({})\n{}",
        r.recommendation.channel.as_db(),
        r.recommendation.english(),
        if r.can_send {
            "A channel that sends by itself works."
        } else {
            "No channel sends by itself: approved emails go to the rep's mail program."
        }
    ));
    out
}
