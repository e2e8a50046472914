//! Command-line entry: `so-outbox [--demo] [--smoke-test]`.

/// What was asked for on the command line.
pub enum Invocation {
    /// Start the app.
    App(Options),
    /// Store a tenant's configuration (and its secrets in the keychain), then exit.
    Configure(ConfigureArgs),
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
    pub smtp_ca_file: Option<String>,
    /// Read the client secret from the first line of stdin.
    pub client_secret_stdin: bool,
    /// Read the SMTP password from the next line of stdin.
    pub smtp_password_stdin: bool,
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
                 [--client-secret-stdin] [--smtp-password-stdin]

  --demo        start on the built-in demo tenant (nothing leaves this computer)
  --smoke-test  start the demo, exit 0 once the window is up and working
  --version     print the version

configure stores a SuperOffice tenant for this computer's user: ENV is sod, qaonline, online or
an https:// base URL (onsite). Secrets are read from standard input, one per line (client secret
first, then the SMTP password), and stored only in the OS keychain.
  --help        print this help

Environment:
  SO_OUTBOX_DATA_DIR   use this data directory instead of the platform's local app data
  SO_OUTBOX_LOG        log filter, e.g. debug or info,outbox=trace";

/// Parses the arguments; `Err` carries text to print (help, version, or a usage error).
pub fn parse(args: impl Iterator<Item = String>) -> Result<Invocation, String> {
    let args: Vec<String> = args.collect();
    if args.first().map(String::as_str) == Some("configure") {
        return parse_configure(&args[1..]).map(Invocation::Configure);
    }
    parse_app(args.into_iter()).map(Invocation::App)
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
            "--client-secret-stdin" => c.client_secret_stdin = true,
            "--smtp-password-stdin" => c.smtp_password_stdin = true,
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
    Ok(c)
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
