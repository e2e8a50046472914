//! Command-line entry: `so-outbox [--demo] [--smoke-test]`.

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

/// `so-outbox configure ...`
#[derive(Clone, Debug, Default)]
pub struct ConfigureArgs {
    pub environment: String,
    pub tenant: String,
    pub client_id: String,
    pub task_type: i64,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: String,
    pub smtp_user: String,
    /// How the relay authenticates: a password or an XOAUTH2 access token.
    pub smtp_auth: outbox::SmtpAuth,
    /// With XOAUTH2: renew the access token at the mail provider (then stdin gives the
    /// refresh token).
    pub smtp_oauth: Option<crate::config::MailOAuthConfig>,
    pub smtp_ca_file: Option<String>,
    /// Read the client secret from the first line of stdin.
    pub client_secret_stdin: bool,
    /// Read the SMTP password (or XOAUTH2 access token) from the next line of stdin.
    pub smtp_password_stdin: bool,
    /// Read the system user token from the next line of stdin.
    pub system_user_token_stdin: bool,
    /// The partner's private key (PEM) for the system user; stored in the keychain.
    pub system_user_key: Option<String>,
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

pub const HELP: &str = "so-outbox: send AI-drafted SuperOffice emails as yourself

Usage: so-outbox [--demo] [--smoke-test]
       so-outbox configure --environment ENV --tenant CTX --client-id ID --smtp-host HOST --smtp-user USER
                 [--task-type N] [--smtp-port P] [--smtp-security tls|starttls] [--smtp-ca-file PEM]
                 [--smtp-auth password|xoauth2 [--smtp-oauth-token-url URL --smtp-oauth-client-id ID
                  [--smtp-oauth-scope SCOPE]]]
                 [--client-secret-stdin] [--smtp-password-stdin]
                 [--system-user-token-stdin --system-user-key PEM]
       so-outbox diagnose [--json | --markdown] [--config FILE] [--demo] [--write]

  --demo        start on the built-in demo tenant (nothing leaves this computer)
  --smoke-test  start the demo, exit 0 once the window is up and working
  --version     print the version

configure stores a SuperOffice tenant for this computer's user: ENV is sod, qaonline, online or
an https:// base URL (onsite). Secrets are read from standard input, one per line (client secret
first, then the SMTP password or, with --smtp-auth xoauth2, the mailbox's OAuth access token (or,
with --smtp-oauth-token-url, its refresh token: the app then renews the access token itself), then
the system user token), and stored only in the OS keychain;
the system user's private key is read from PEM and stored in the keychain too (delete the file
afterwards). With a system user, diagnostics show its column beside the rep's.

diagnose runs every capability check without a window (the rep's checks use the sign-in stored
in the keychain) and prints a summary, the report as JSON (--json) or Markdown (--markdown).
Exit status: 0 when the Email agent or the SMTP relay can send, 1 when only the handoff to the
rep's own mail program is left, 2 when the checks could not run. --write also creates and
deletes a test document and sends a test email to the rep's own address.
  --help        print this help

Environment:
  SO_OUTBOX_DATA_DIR   use this data directory instead of the platform's local app data
  SO_OUTBOX_LOG        log filter, e.g. debug or info,outbox=trace";

/// Parses the arguments; `Err` carries text to print (help, version, or a usage error).
pub fn parse(args: impl Iterator<Item = String>) -> Result<Invocation, String> {
    let args: Vec<String> = args.collect();
    if args.first().map(String::as_str) == Some("configure") {
        return parse_configure(&args[1..]).map(|c| Invocation::Configure(Box::new(c)));
    }
    if args.first().map(String::as_str) == Some("diagnose") {
        return parse_diagnose(&args[1..]).map(Invocation::Diagnose);
    }
    parse_app(args.into_iter()).map(Invocation::App)
}

fn oauth(c: &mut ConfigureArgs) -> &mut crate::config::MailOAuthConfig {
    c.smtp_oauth.get_or_insert_with(|| crate::config::MailOAuthConfig { token_url: String::new(), client_id: String::new(), scope: None })
}

fn parse_configure(args: &[String]) -> Result<ConfigureArgs, String> {
    let mut c = ConfigureArgs { task_type: 7, smtp_port: 587, smtp_security: "starttls".into(), ..ConfigureArgs::default() };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value\n\n{HELP}"));
        match flag.as_str() {
            "--environment" => c.environment = value()?,
            "--tenant" => c.tenant = value()?,
            "--client-id" => c.client_id = value()?,
            "--task-type" => c.task_type = value()?.parse().map_err(|_| "--task-type needs a number".to_string())?,
            "--smtp-host" => c.smtp_host = value()?,
            "--smtp-port" => c.smtp_port = value()?.parse().map_err(|_| "--smtp-port needs a port number".to_string())?,
            "--smtp-security" => c.smtp_security = value()?,
            "--smtp-user" => c.smtp_user = value()?,
            "--smtp-ca-file" => c.smtp_ca_file = Some(value()?),
            "--smtp-oauth-token-url" => oauth(&mut c).token_url = value()?,
            "--smtp-oauth-client-id" => oauth(&mut c).client_id = value()?,
            "--smtp-oauth-scope" => oauth(&mut c).scope = Some(value()?),
            "--smtp-auth" => {
                c.smtp_auth = outbox::SmtpAuth::parse(&value()?).ok_or_else(|| "--smtp-auth is password or xoauth2".to_string())?
            }
            "--client-secret-stdin" => c.client_secret_stdin = true,
            "--smtp-password-stdin" => c.smtp_password_stdin = true,
            "--system-user-token-stdin" => c.system_user_token_stdin = true,
            "--system-user-key" => c.system_user_key = Some(value()?),
            "--help" | "-h" => return Err(HELP.into()),
            other => return Err(format!("unknown argument: {other}\n\n{HELP}")),
        }
    }
    for (name, v) in [
        ("--environment", &c.environment),
        ("--tenant", &c.tenant),
        ("--client-id", &c.client_id),
        ("--smtp-host", &c.smtp_host),
        ("--smtp-user", &c.smtp_user),
    ] {
        if v.trim().is_empty() {
            return Err(format!("configure needs {name}\n\n{HELP}"));
        }
    }
    if !matches!(c.smtp_security.as_str(), "tls" | "starttls") {
        return Err("--smtp-security is tls (implicit TLS, port 465) or starttls (port 587); plaintext is not offered".into());
    }
    if let Some(o) = &c.smtp_oauth {
        if c.smtp_auth != outbox::SmtpAuth::XOAuth2 {
            return Err("--smtp-oauth-* needs --smtp-auth xoauth2".into());
        }
        o.validate().map_err(|e| format!("--smtp-oauth-token-url/--smtp-oauth-client-id: {e}"))?;
    }
    Ok(c)
}

fn parse_diagnose(args: &[String]) -> Result<DiagnoseArgs, String> {
    let mut d = DiagnoseArgs::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--json" => d.format = ReportFormat::Json,
            "--markdown" => d.format = ReportFormat::Markdown,
            "--config" => d.config = Some(it.next().cloned().ok_or_else(|| format!("--config needs a file\n\n{HELP}"))?),
            "--demo" => d.demo = true,
            "--write" => d.write = true,
            "--help" | "-h" => return Err(HELP.into()),
            other => return Err(format!("unknown argument: {other}\n\n{HELP}")),
        }
    }
    Ok(d)
}

fn parse_app(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options::default();
    for a in args {
        match a.as_str() {
            "--demo" => o.demo = true,
            "--smoke-test" => {
                o.demo = true;
                o.smoke_test = true;
            }
            "--help" | "-h" => return Err(HELP.into()),
            "--version" | "-V" => return Err(format!("so-outbox {}", env!("CARGO_PKG_VERSION"))),
            other => return Err(format!("unknown argument: {other}\n\n{HELP}")),
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    fn configure(extra: &[&str]) -> Result<super::ConfigureArgs, String> {
        let base =
            ["configure", "--environment", "online", "--tenant", "Cust1", "--client-id", "c", "--smtp-host", "h", "--smtp-user", "u"];
        match super::parse(base.iter().chain(extra).map(|s| s.to_string()))? {
            super::Invocation::Configure(c) => Ok(*c),
            _ => Err("not configure".into()),
        }
    }

    #[test]
    fn the_relay_signs_in_with_a_password_unless_xoauth2_is_asked_for() {
        assert_eq!(configure(&[]).map(|c| c.smtp_auth), Ok(outbox::SmtpAuth::Password));
        assert_eq!(configure(&["--smtp-auth", "xoauth2"]).map(|c| c.smtp_auth), Ok(outbox::SmtpAuth::XOAuth2));
        assert!(configure(&["--smtp-auth", "oauth"]).is_err_and(|e| e.contains("password or xoauth2")));
        assert!(configure(&["--smtp-auth"]).is_err_and(|e| e.contains("needs a value")));
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
        .map(|c| c.smtp_oauth);
        assert!(renewed.is_ok_and(|o| o.is_some_and(|o| o.client_id == "0fd8c7e2" && o.scope.is_some())));
        assert!(configure(&["--smtp-oauth-token-url", "https://x.example/token", "--smtp-oauth-client-id", "c"])
            .is_err_and(|e| e.contains("xoauth2")));
        let plain = ["--smtp-auth", "xoauth2", "--smtp-oauth-token-url", "http://login.example/token", "--smtp-oauth-client-id", "c"];
        assert!(configure(&plain).is_err_and(|e| e.contains("https://")), "no token endpoint in plaintext");
    }
}
