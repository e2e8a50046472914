//! Per-message SMTP latency on loopback, before and after `TCP_NODELAY`: N messages, each on its
//! own connection (connect, implicit TLS, EHLO, AUTH, MAIL, RCPT, DATA, body, `250`, QUIT), to a
//! real SMTP server (aiosmtpd, `testkit::smtp`), alternating between
//!
//! - **before**: lettre's own transport (`AsyncSmtpTransport`), whose connection does not set
//!   `TCP_NODELAY` (what our implicit-TLS path used until it got its own connection), and
//! - **after**: `outbox::smtp::submit`, whose connection sets it (`tls.rs`).
//!
//! Prints the median and mean per message for each and their ratio; asserts nothing but that
//! every message was taken. Needs `SMTP_PYTHON` (the venv with aiosmtpd, `scripts/setup.sh`).
//!
//! ```text
//! SMTP_PYTHON=.ci-venv/bin/python cargo run --release -p outbox --example bench_latency -- [--n 100]
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark may panic on a broken setup

use std::time::{Duration, Instant};

use keychain::Secret;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use outbox::smtp::{self, Outcome, SmtpSecurity};
use testkit::smtp::{Server, PASSWORD, USER};

fn message(i: usize) -> Message {
    let from: Mailbox = USER.parse().unwrap();
    Message::builder()
        .from(from.clone())
        .to("jonas.weber@mueller-logistik.example".parse().unwrap())
        .subject(format!("Latency {i}"))
        .body(format!("Hallo Jonas,\n\nNachricht {i}.\n"))
        .unwrap()
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(v[v.len() / 2]);
    let mean = v.iter().map(|d| ms(*d)).sum::<f64>() / v.len() as f64;
    (median, mean)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().skip_while(|a| a != "--n").nth(1).and_then(|v| v.parse().ok()).unwrap_or(100);
    let server = Server::start("implicit");
    let ca = server.pki.ca_pem.clone();
    let tls = TlsParameters::builder("localhost".into())
        .add_root_certificate(Certificate::from_pem(ca.as_bytes()).unwrap())
        .build_rustls()
        .unwrap();
    let lettre_transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("localhost")
        .port(server.port)
        .tls(Tls::Wrapper(tls))
        .credentials(Credentials::new(USER.into(), PASSWORD.into()))
        .build();
    let ours = server.settings(SmtpSecurity::ImplicitTls, Secret::new(PASSWORD));
    let (mut before, mut after) = (Vec::new(), Vec::new());
    // A warm-up of each, then alternating so that the machine's other work falls on both alike.
    for i in 0..(n + 5) {
        let m = message(i);
        let t = Instant::now();
        lettre_transport.send(m.clone()).await.expect("lettre's transport");
        let b = t.elapsed();
        let envelope = m.envelope().clone();
        let bytes = m.formatted();
        let t = Instant::now();
        let outcome = smtp::submit(&ours, &envelope, &bytes, || async { true }).await;
        let a = t.elapsed();
        assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
        if i >= 5 {
            before.push(b);
            after.push(a);
        }
    }
    let (b_med, b_mean) = stats(before);
    let (a_med, a_mean) = stats(after);
    println!("latency: {n} messages each way, one connection per message, implicit TLS to aiosmtpd on loopback");
    println!("latency: before (lettre's connection, no TCP_NODELAY): median {b_med:.1} ms, mean {b_mean:.1} ms");
    println!("latency: after (our connection, TCP_NODELAY): median {a_med:.1} ms, mean {a_mean:.1} ms");
    println!("latency: after/before: median {:.2}, mean {:.2}", a_med / b_med, a_mean / b_mean);
    assert_eq!(server.received().len(), 2 * (n + 5), "every message was taken");
}
