// Keeps a console window from opening on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let options = match so_outbox::cli::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(text) => {
            println!("{text}");
            return;
        }
    };
    std::process::exit(so_outbox::run(options));
}
