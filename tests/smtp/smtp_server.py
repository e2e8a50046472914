"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, with STARTTLS or implicit TLS and
AUTH. Each accepted message is written to OUT_DIR as NNNN.eml (the exact bytes) plus NNNN.json
(envelope, login, TLS). Prints "READY <port>" once listening; runs until killed.

Usage: smtp_server.py --out DIR --mode starttls|implicit|plain --cert C --key K --user U --password P
"""
import argparse
import asyncio
import json
import pathlib
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, out: pathlib.Path):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        stem = self.out / f"{self.n:04d}"
        stem.with_suffix(".eml").write_bytes(envelope.original_content or envelope.content)
        stem.with_suffix(".json").write_text(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "login": bool(session.authenticated),
            "tls": session.ssl is not None or server.__dict__.get("_tls_protocol") is not None,
        }))
        return "250 2.0.0 Ok: queued as TEST%04d" % self.n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--mode", choices=["starttls", "implicit", "plain"], required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user", default="tester")
    ap.add_argument("--password", default="secret")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and auth_data.password.decode() == a.password
        return AuthResult(success=ok, handled=False)

    ctx = None
    if a.mode != "plain":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kw = dict(hostname="127.0.0.1", port=port, authenticator=authenticator, decode_data=False)
    if a.mode == "starttls":
        c = Controller(Sink(out), tls_context=ctx, require_starttls=True, auth_require_tls=True, **kw)
    elif a.mode == "implicit":
        c = Controller(Sink(out), ssl_context=ctx, auth_require_tls=False, **kw)
    else:
        c = Controller(Sink(out), auth_require_tls=False, **kw)
    c.start()
    print(f"READY {port}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
