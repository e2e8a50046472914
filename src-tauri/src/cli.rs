//! Command-line entry: `so-outbox [--demo] [--smoke-test]`, `so-outbox configure …` and
//! `so-outbox diagnose …`, parsed by clap from the types below (the help is generated from
//! their docs, so it cannot drift from what is accepted).

use clap::{Args, Parser, Subcommand, ValueEnum};

/// What was asked for on the command line.
pub enum Invocation {
    /// Start the app.
    App(Options),
    /// Store a tenant's configuration (and its secrets in the keychain), then exit.
    Configure(Box<ConfigureArgs>),
    /// Run the capability diagnostics headless, print the report, exit with its verdict.
    Diagnose(DiagnoseArgs),
}

/// How `so-outbox diagnose` prints its report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReportFormat {
    #[default]
    Text,
    Json,
    Markdown,
}

/// `so-outbox diagnose ...`
#[derive(Clone, Debug, Default)]
pub struct DiagnoseArgs {
    pub format: ReportFormat,
    /// A `config.json` to use instead of the data directory's.
    pub config: Option<String>,
    /// Diagnose the built-in demo tenant (signs its rep in headlessly).
    pub demo: bool,
    /// Also run the write checks (test document, test email to the rep).
    pub write: bool,
}

/// How the relay's connection is secured (there is no plaintext).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SecurityArg {
    /// Implicit TLS (port 465).
    Tls,
    /// STARTTLS that must succeed (port 587).
    #[default]
    Starttls,
}

impl From<SecurityArg> for outbox::SmtpSecurity {
    fn from(a: SecurityArg) -> Self {
        match a {
            SecurityArg::Tls => outbox::SmtpSecurity::ImplicitTls,
            SecurityArg::Starttls => outbox::SmtpSecurity::StartTls,
        }
    }
}

impl From<outbox::SmtpSecurity> for SecurityArg {
    fn from(s: outbox::SmtpSecurity) -> Self {
        match s {
            outbox::SmtpSecurity::ImplicitTls => SecurityArg::Tls,
            outbox::SmtpSecurity::StartTls => SecurityArg::Starttls,
        }
    }
}

/// How the relay authenticates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum AuthArg {
    /// A password (from standard input).
    #[default]
    Password,
    /// An OAuth 2.0 access token (XOAUTH2), or its refresh token with --smtp-oauth-token-url.
    Xoauth2,
}

/// Stores a SuperOffice tenant for this computer's user (secrets go to the OS keychain)
///
/// Secrets are read from standard input, one per line: the client secret first, then the SMTP password (or, with --smtp-auth xoauth2,
/// the mailbox's OAuth access token, or with --smtp-oauth-token-url its refresh token: the app
/// then renews the access token itself), then the system user token. They are stored only in
/// the OS keychain; the system user's private key is read from PEM and stored there too (delete
/// the file afterwards). With a system user, diagnostics show its column beside the rep's.
#[derive(Clone, Debug, Default, Args)]
pub struct ConfigureArgs {
    /// sod, qaonline, online or an https:// base URL (onsite)
    #[arg(long)]
    pub environment: String,
    /// The tenant's context id, e.g. Cust12345
    #[arg(long)]
    pub tenant: String,
    /// The app registration's client id
    #[arg(long)]
    pub client_id: String,
    /// The follow-up task type whose tasks hold drafts
    #[arg(long, default_value_t = 7)]
    pub task_type: i64,
    /// The SMTP relay's host name
    #[arg(long)]
    pub smtp_host: String,
    /// The relay's port (465 with tls, 587 with starttls)
    #[arg(long, default_value_t = 587)]
    pub smtp_port: u16,
    /// How the connection to the relay is secured
    #[arg(long, value_enum, default_value_t)]
    pub smtp_security: SecurityArg,
    /// The relay's user name (usually the rep's mailbox address)
    #[arg(long)]
    pub smtp_user: String,
    /// How the relay authenticates: a password or an XOAUTH2 access token.
    #[arg(long, value_enum, default_value_t)]
    pub smtp_auth: AuthArg,
    /// With XOAUTH2: the mail provider's token endpoint, to renew the access token
    #[arg(long, requires = "smtp_oauth_client_id")]
    pub smtp_oauth_token_url: Option<String>,
    /// With XOAUTH2: the app's client id at the mail provider
    #[arg(long, requires = "smtp_oauth_token_url")]
    pub smtp_oauth_client_id: Option<String>,
    /// With XOAUTH2: the scope to ask for when renewing
    #[arg(long, requires = "smtp_oauth_token_url")]
    pub smtp_oauth_scope: Option<String>,
    /// A PEM file with the CA the relay's certificate is issued by (onsite relays)
    #[arg(long)]
    pub smtp_ca_file: Option<String>,
    /// Read the client secret from the first line of stdin.
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// Read the SMTP password (or XOAUTH2 token) from the next line of stdin.
    #[arg(long)]
    pub smtp_password_stdin: bool,
    /// Read the system user token from the next line of stdin.
    #[arg(long, requires = "system_user_key")]
    pub system_user_token_stdin: bool,
    /// The partner's private key (PEM) for the system user; stored in the keychain.
    #[arg(long, requires = "system_user_token_stdin")]
    pub system_user_key: Option<String>,
    /// Lets reps connect their own mailbox at this provider (the company's app registration)
    #[arg(long, value_enum, requires = "mailbox_client_id")]
    pub mailbox: Option<ProviderArg>,
    /// The app registration's client id at the mail provider
    #[arg(long, requires = "mailbox")]
    pub mailbox_client_id: Option<String>,
    /// Microsoft only: the Entra tenant id or domain to sign in at (default: organizations)
    #[arg(long, requires = "mailbox")]
    pub mailbox_tenant: Option<String>,
    /// Google only: read the Desktop client's secret from the next line of stdin.
    #[arg(long, requires = "mailbox")]
    pub mailbox_client_secret_stdin: bool,
}

/// A mail provider reps can connect their mailbox at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProviderArg {
    /// Microsoft 365 (Exchange Online), through Microsoft Graph
    Microsoft,
    /// Google Workspace (Gmail), through the Gmail API
    Google,
}

impl From<ProviderArg> for mailbox::Provider {
    fn from(p: ProviderArg) -> Self {
        match p {
            ProviderArg::Microsoft => mailbox::Provider::Microsoft,
            ProviderArg::Google => mailbox::Provider::Google,
        }
    }
}

impl ConfigureArgs {
    pub fn auth(&self) -> outbox::SmtpAuth {
        match self.smtp_auth {
            AuthArg::Password => outbox::SmtpAuth::Password,
            AuthArg::Xoauth2 => outbox::SmtpAuth::XOAuth2,
        }
    }

    /// The mail provider's token endpoint for renewing the relay's XOAUTH2 token, if given.
    pub fn oauth(&self) -> Option<crate::config::MailOAuthConfig> {
        Some(crate::config::MailOAuthConfig {
            token_url: self.smtp_oauth_token_url.clone()?,
            client_id: self.smtp_oauth_client_id.clone().unwrap_or_default(),
            scope: self.smtp_oauth_scope.clone(),
        })
    }

    /// The mail provider registration given with --mailbox, if any.
    pub fn mailbox(&self) -> Option<crate::config::MailboxConfig> {
        Some(crate::config::MailboxConfig {
            provider: self.mailbox?.into(),
            client_id: self.mailbox_client_id.clone()?.trim().to_owned(),
            tenant: self.mailbox_tenant.clone().map(|t| t.trim().to_owned()),
        })
    }

    /// What clap cannot say alone: renewal only with XOAUTH2, and only over https; a tenant
    /// only for Microsoft, a client secret only for Google.
    fn validate(&self) -> Result<(), String> {
        if let Some(m) = self.mailbox() {
            m.validate().map_err(|e| format!("--mailbox: {e}"))?;
            match m.provider {
                mailbox::Provider::Google if m.tenant.is_some() => return Err("--mailbox-tenant is for Microsoft only".into()),
                mailbox::Provider::Microsoft if self.mailbox_client_secret_stdin => {
                    return Err("Microsoft's public clients have no secret: leave out --mailbox-client-secret-stdin".into())
                }
                _ => {}
            }
        }
        if let Some(o) = self.oauth() {
            if self.smtp_auth != AuthArg::Xoauth2 {
                return Err("--smtp-oauth-* needs --smtp-auth xoauth2".into());
            }
            o.validate().map_err(|e| format!("--smtp-oauth-token-url/--smtp-oauth-client-id: {e}"))?;
        }
        Ok(())
    }
}

/// How the app was started.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Start straight on the built-in demo tenant.
    pub demo: bool,
    /// Start on the demo tenant, wait until the window has loaded and talked to the core,
    /// then exit 0 (or 1 after 60 s): the installed package's smoke test.
    pub smoke_test: bool,
}

/// so-outbox: send AI-drafted SuperOffice emails as yourself
#[derive(Parser)]
#[command(name = "so-outbox", version, after_help = ENVIRONMENT_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Start on the built-in demo tenant (nothing leaves this computer)
    #[arg(long)]
    demo: bool,
    /// Start the demo, exit 0 once the window is up and working
    #[arg(long)]
    smoke_test: bool,
}

#[derive(Subcommand)]
enum Command {
    Configure(Box<ConfigureArgs>),
    /// Runs every capability check without a window and prints the report
    ///
    /// The rep's checks use the sign-in stored in the keychain. Exit status:
    /// 0 when the Email agent or the SMTP relay can send, 1 when only the handoff to the rep's
    /// own mail program is left, 2 when the checks could not run.
    Diagnose {
        /// Print the report as JSON
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// Print the report as Markdown
        #[arg(long)]
        markdown: bool,
        /// A config.json to use instead of the data directory's
        #[arg(long, value_name = "FILE")]
        config: Option<String>,
        /// Diagnose the built-in demo tenant
        #[arg(long)]
        demo: bool,
        /// Also create and delete a test document and send a test email to the rep's own address
        #[arg(long)]
        write: bool,
    },
}

const ENVIRONMENT_HELP: &str = "Environment:
  SO_OUTBOX_DATA_DIR   use this data directory instead of the platform's local app data
  SO_OUTBOX_LOG        log filter, e.g. debug or info,outbox=trace";

/// Parses the arguments (without the program name); `Err` carries what to print: the help,
/// the version, or a usage error with the help's pointer, and whether that is an error.
pub fn parse(args: impl Iterator<Item = String>) -> Result<Invocation, (String, bool)> {
    let cli =
        Cli::try_parse_from(std::iter::once("so-outbox".to_owned()).chain(args)).map_err(|e| (e.render().to_string(), e.use_stderr()))?;
    match cli.command {
        None => Ok(Invocation::App(Options { demo: cli.demo || cli.smoke_test, smoke_test: cli.smoke_test })),
        Some(Command::Configure(c)) => {
            c.validate().map_err(|e| (e, true))?;
            Ok(Invocation::Configure(c))
        }
        Some(Command::Diagnose { json, markdown, config, demo, write }) => {
            let format = if json {
                ReportFormat::Json
            } else if markdown {
                ReportFormat::Markdown
            } else {
                ReportFormat::Text
            };
            Ok(Invocation::Diagnose(DiagnoseArgs { format, config, demo, write }))
        }
    }
}

#[cfg(test)]
mod tests {
    fn configure(extra: &[&str]) -> Result<super::ConfigureArgs, String> {
        let base =
            ["configure", "--environment", "online", "--tenant", "Cust1", "--client-id", "c", "--smtp-host", "h", "--smtp-user", "u"];
        match super::parse(base.iter().chain(extra).map(|s| s.to_string())).map_err(|e| e.0)? {
            super::Invocation::Configure(c) => Ok(*c),
            _ => Err("not configure".into()),
        }
    }

    #[test]
    fn the_relay_signs_in_with_a_password_unless_xoauth2_is_asked_for() {
        assert_eq!(configure(&[]).map(|c| c.auth()), Ok(outbox::SmtpAuth::Password));
        assert_eq!(configure(&["--smtp-auth", "xoauth2"]).map(|c| c.auth()), Ok(outbox::SmtpAuth::XOAuth2));
        assert!(configure(&["--smtp-auth", "oauth"]).is_err_and(|e| e.contains("password") && e.contains("xoauth2")));
        assert!(configure(&["--smtp-auth"]).is_err_and(|e| e.contains("a value is required")));
        let renewed = configure(&[
            "--smtp-auth",
            "xoauth2",
            "--smtp-oauth-token-url",
            "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token",
            "--smtp-oauth-client-id",
            "0fd8c7e2",
            "--smtp-oauth-scope",
            "https://outlook.office.com/SMTP.Send offline_access",
        ])
        .map(|c| c.oauth());
        assert!(renewed.is_ok_and(|o| o.is_some_and(|o| o.client_id == "0fd8c7e2" && o.scope.is_some())));
        assert!(configure(&["--smtp-oauth-token-url", "https://x.example/token", "--smtp-oauth-client-id", "c"])
            .is_err_and(|e| e.contains("xoauth2")));
        let plain = ["--smtp-auth", "xoauth2", "--smtp-oauth-token-url", "http://login.example/token", "--smtp-oauth-client-id", "c"];
        assert!(configure(&plain).is_err_and(|e| e.contains("https://")), "no token endpoint in plaintext");
    }

    #[test]
    fn a_mailbox_registration_names_its_provider_and_only_its_own_options() {
        let m = configure(&["--mailbox", "microsoft", "--mailbox-client-id", "3c9a6b1e", "--mailbox-tenant", "contoso.example"]);
        let m = m.map(|c| c.mailbox());
        assert!(m.is_ok_and(|m| m.is_some_and(|m| m.provider == mailbox::Provider::Microsoft && m.tenant.as_deref() == Some("contoso.example"))));
        assert!(configure(&["--mailbox", "google", "--mailbox-client-id", "9.apps", "--mailbox-client-secret-stdin"]).is_ok());
        assert!(configure(&["--mailbox", "google", "--mailbox-client-id", "9", "--mailbox-tenant", "t"])
            .is_err_and(|e| e.contains("Microsoft only")));
        assert!(configure(&["--mailbox", "microsoft", "--mailbox-client-id", "c", "--mailbox-client-secret-stdin"])
            .is_err_and(|e| e.contains("no secret")));
        assert!(configure(&["--mailbox", "microsoft"]).is_err_and(|e| e.contains("--mailbox-client-id")));
        assert!(configure(&["--mailbox", "yahoo", "--mailbox-client-id", "c"]).is_err());
        assert_eq!(configure(&[]).map(|c| c.mailbox()), Ok(None));
    }

    /// The relay's security is one of two values, checked by the parser (no plaintext), with
    /// STARTTLS on 587 as the default; a missing required flag is named.
    #[test]
    fn security_and_required_flags_are_checked_by_the_parser() {
        assert_eq!(
            configure(&[]).map(|c| (outbox::SmtpSecurity::from(c.smtp_security).as_str(), c.smtp_port, c.task_type)),
            Ok(("starttls", 587, 7))
        );
        assert_eq!(configure(&["--smtp-security", "tls"]).map(|c| outbox::SmtpSecurity::from(c.smtp_security).as_str()), Ok("tls"));
        assert!(configure(&["--smtp-security", "none"]).is_err());
        let missing = super::parse(["configure", "--environment", "online"].iter().map(|s| s.to_string())).err().map(|e| e.0);
        assert!(missing.is_some_and(|e| e.contains("--tenant")));
        let demo = super::parse(["--smoke-test"].iter().map(|s| s.to_string()));
        assert!(matches!(demo, Ok(super::Invocation::App(super::Options { demo: true, smoke_test: true }))));
        let help = super::parse(["--help"].iter().map(|s| s.to_string())).err();
        assert!(help.is_some_and(|(text, error)| !error && text.contains("configure") && text.contains("SO_OUTBOX_DATA_DIR")));
    }
}
