//! `so-outbox-cli.exe`, installed beside `so-outbox.exe` on Windows.
//!
//! The app's release build is a Windows GUI program (no console window opens when a rep starts
//! it from the Start menu). Started from a console, such a program has no standard output:
//! `so-outbox diagnose --json` would print nothing, `cmd.exe` would not wait for it and its exit
//! code would be lost. This console program runs `so-outbox.exe` from its own directory with the
//! same arguments, passes standard input on and copies its output back through pipes, which
//! every program has, and exits with its exit code. So IT and support run, for example:
//!
//! ```text
//! "%LOCALAPPDATA%\Programs\SuperOffice Outbox\so-outbox-cli.exe" diagnose --json > report.json
//! ```
//!
//! On Linux and macOS `so-outbox` itself is a console program; this one only says so.

use std::io::{Read, Write};
use std::process::{Command, ExitCode, Stdio};

fn main() -> ExitCode {
    if !cfg!(windows) {
        eprintln!("so-outbox-cli is for Windows; here, run so-outbox itself");
        return ExitCode::from(2);
    }
    let app = match std::env::current_exe() {
        Ok(me) => me.with_file_name("so-outbox.exe"),
        Err(e) => {
            eprintln!("so-outbox-cli: cannot find its own path: {e}");
            return ExitCode::from(2);
        }
    };
    let mut child = match Command::new(&app)
        .args(std::env::args_os().skip(1))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("so-outbox-cli: cannot start {}: {e}", app.display());
            return ExitCode::from(2);
        }
    };
    // Standard input goes on until it ends (configure reads its secrets from it); a program
    // that reads none leaves this thread blocked, and it ends with the process.
    if let Some(mut to_child) = child.stdin.take() {
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut to_child);
        });
    }
    let out = child.stdout.take().map(|from| std::thread::spawn(move || relay(from, std::io::stdout())));
    let err = child.stderr.take().map(|from| std::thread::spawn(move || relay(from, std::io::stderr())));
    let status = child.wait();
    // The pipes close when so-outbox.exe ends: everything it wrote is copied before we exit.
    for copier in [out, err].into_iter().flatten() {
        let _ = copier.join();
    }
    match status {
        // An exit code outside 0..=255 (a Windows NTSTATUS after a crash) reads as 1.
        Ok(status) => ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)),
        Err(e) => {
            eprintln!("so-outbox-cli: lost {}: {e}", app.display());
            ExitCode::from(2)
        }
    }
}

/// Copies a pipe to our own output as it comes (line by line is not enough: a prompt has no
/// line end), flushing after each read.
fn relay(mut from: impl Read, mut to: impl Write) {
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if to.write_all(&buf[..n]).and_then(|()| to.flush()).is_err() {
                    return;
                }
            }
        }
    }
}
