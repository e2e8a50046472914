"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, with STARTTLS or implicit TLS and
AUTH (PLAIN, LOGIN, and XOAUTH2 with a bearer token, answered like Microsoft 365: a bad token
gets 535 at once). Each accepted message is written to OUT_DIR as NNNN.eml (the exact bytes) plus NNNN.json
(envelope, login, TLS). Prints "READY <port>" once listening; runs until killed.

Usage: smtp_server.py --out DIR --mode starttls|implicit|plain --cert C --key K --user U --password P [--token T]
"""
import argparse
import asyncio
import base64
import json
import pathlib
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, AuthResult, LoginPassword


class Sink:
    def __init__(self, out: pathlib.Path, user: str, token: str):
        self.out = out
        self.n = 0
        self.user = user
        self.token = token

    async def auth_XOAUTH2(self, server, args):
        """RFC-less but documented by Google and Microsoft: base64 of
        "user={user}\x01auth=Bearer {token}\x01\x01"."""
        if len(args) == 1:
            raw = await server.challenge_auth("")
            if raw is MISSING:
                return AuthResult(success=False)
        else:
            try:
                raw = base64.b64decode(args[1].encode(), validate=True)
            except Exception:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        fields = dict(f.split("=", 1) for f in raw.decode(errors="replace").split("\x01") if "=" in f)
        ok = bool(self.token) and fields.get("user") == self.user and fields.get("auth") == f"Bearer {self.token}"
        if not ok:
            return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")
        server.session.mechanism = "XOAUTH2"
        return AuthResult(success=True, auth_data=LoginPassword(self.user.encode(), b""))

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        stem = self.out / f"{self.n:04d}"
        stem.with_suffix(".eml").write_bytes(envelope.original_content or envelope.content)
        stem.with_suffix(".json").write_text(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "login": bool(session.authenticated),
            "mechanism": getattr(session, "mechanism", None),
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
    ap.add_argument("--token", default="", help="the bearer token AUTH XOAUTH2 accepts")
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user and auth_data.password.decode() == a.password
        ok = ok and mechanism in ("PLAIN", "LOGIN")
        if ok:
            session.mechanism = mechanism
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
        c = Controller(Sink(out, a.user, a.token), tls_context=ctx, require_starttls=True, auth_require_tls=True, **kw)
    elif a.mode == "implicit":
        c = Controller(Sink(out, a.user, a.token), ssl_context=ctx, auth_require_tls=False, **kw)
    else:
        c = Controller(Sink(out, a.user, a.token), auth_require_tls=False, **kw)
    c.start()
    print(f"READY {port}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
