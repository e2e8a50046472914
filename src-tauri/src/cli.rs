//! Command-line entry: `so-outbox [--demo] [--smoke-test]`.

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

  --demo        start on the built-in demo tenant (nothing leaves this computer)
  --smoke-test  start the demo, exit 0 once the window is up and working
  --version     print the version
  --help        print this help

Environment:
  SO_OUTBOX_DATA_DIR   use this data directory instead of the platform's local app data
  SO_OUTBOX_LOG        log filter, e.g. debug or info,outbox=trace";

/// Parses the arguments; `Err` carries text to print (help, version, or a usage error).
pub fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
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
