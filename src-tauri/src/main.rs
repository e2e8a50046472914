// Keeps a console window from opening on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    match so_outbox::cli::parse(std::env::args().skip(1)) {
        Ok(so_outbox::cli::Invocation::App(options)) => std::process::exit(so_outbox::run(options)),
        Ok(so_outbox::cli::Invocation::Configure(args)) => std::process::exit(so_outbox::configure(*args)),
        Ok(so_outbox::cli::Invocation::Diagnose(args)) => std::process::exit(so_outbox::diagnose(args)),
        Err((text, false)) => println!("{text}"),
        Err((text, true)) => {
            eprintln!("{text}");
            std::process::exit(2)
        }
    }
}
