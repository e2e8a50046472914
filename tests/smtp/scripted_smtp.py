"""A scripted SMTP server for the fault tests: it fails at an exact protocol step, on purpose.

Python standard library only (socket, ssl, threads), listening on 127.0.0.1. It speaks enough
ESMTP for lettre: EHLO, STARTTLS (RFC 3207), AUTH PLAIN and LOGIN, MAIL, RCPT, DATA, RSET, NOOP,
QUIT, with implicit TLS as an option. The script (JSON, --script) says where to fail:

    {
      "starttls": true,            offer STARTTLS on the plaintext EHLO
      "implicit": false,           TLS from the first byte (port 465 style)
      "auth": ["PLAIN", "LOGIN"],  mechanisms offered (only inside TLS unless auth_before_tls)
      "auth_before_tls": false,    also offer AUTH on the plaintext EHLO (a bait)
      "smtputf8": false,           offer SMTPUTF8
      "user": "...", "password": "...",
      "inject": null,              text sent together with "220 Ready to start TLS", before the
                                   handshake (the STARTTLS response injection of "NO STARTTLS")
      "faults": [
        {"step": "rcpt", "action": "reply", "reply": "450 4.2.0 busy", "times": 1}
      ]
    }

A fault's step is one of connect (before the greeting), greeting, ehlo (the first EHLO),
ehlo_tls (the EHLO after STARTTLS), starttls (the command), tls (the handshake after "220
Ready"), auth, mail, rcpt, data (the command, before its 354), body (after the first line of
the message), dot (after the final dot, before the reply). Its action: "drop" (close the
connection), "stall" (answer nothing for "seconds", default an hour, then close), or "reply"
(answer "reply" instead; at body the reply goes out at once and the rest of the message is
read and discarded; at dot the message is not taken). At greeting, drop and stall come after
half a multi-line greeting. "times" is how many connections the fault hits (default 1: the
first; 0 means every connection).

Every event goes to --log as one JSON object per line: connections; every command received,
with "tls", "secret_in_clear" (the password, as is or base64-encoded, in a line received
outside TLS) and, for AUTH and its continuation lines, "credentials": true and "in_clear";
faults applied; data the client sent after STARTTLS without waiting (discarded, RFC 3207 §6);
and every message that reached the final dot: envelope, MAIL parameters, size, sha256, the
number of lines not ended by CRLF ("bare_lf"), and "status" accepted, refused, or unconfirmed
(the connection ended before the reply). Accepted messages are also written to --out as
NNNN.eml (dot-unstuffed). Prints "READY <port>" once listening; runs until killed.

Usage: scripted_smtp.py --log FILE --out DIR --cert C --key K [--script JSON]
"""
import argparse
import base64
import hashlib
import json
import pathlib
import socket
import ssl
import sys
import threading
import time

STEPS = {"connect", "greeting", "ehlo", "ehlo_tls", "starttls", "tls", "auth", "mail", "rcpt", "data", "body", "dot"}


class Closed(Exception):
    """The connection is over (closed by the peer, dropped or stalled by the script)."""


class Server:
    def __init__(self, script, log_path, out_dir, ctx):
        self.script = script
        self.ctx = ctx
        self.out = out_dir
        self.log_file = open(log_path, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self.connections = 0
        self.accepted = 0
        for f in script.get("faults", []):
            if f.get("step") not in STEPS:
                raise SystemExit(f"unknown step in {f}")

    def log(self, **event):
        event["t"] = round(time.time(), 3)
        with self.lock:
            self.log_file.write(json.dumps(event) + "\n")
            self.log_file.flush()

    def next_connection(self):
        with self.lock:
            self.connections += 1
            return self.connections

    def next_message(self):
        with self.lock:
            self.accepted += 1
            return self.accepted

    def fault(self, step, conn_no):
        for f in self.script.get("faults", []):
            times = f.get("times", 1)
            if f["step"] == step and (times == 0 or conn_no <= times):
                return f
        return None


class Session:
    def __init__(self, server, sock, conn_no):
        self.srv = server
        self.sock = sock
        self.no = conn_no
        self.buf = b""
        self.tls = False
        self.authenticated = False
        self.mail_from = None
        self.mail_params = ""
        self.rcpt = []
        s = server.script
        self.user = s.get("user", "tester")
        self.password = s.get("password", "secret")

    # -- plumbing -----------------------------------------------------------------------------

    def log(self, event, **kw):
        self.srv.log(event=event, conn=self.no, tls=self.tls, **kw)

    def send(self, text):
        try:
            self.sock.sendall(text.encode("utf-8") if isinstance(text, str) else text)
        except OSError as e:
            raise Closed(f"send failed: {e}")

    def reply(self, line):
        self.send(line + "\r\n")

    def readline(self):
        """One line with its terminator (bytes), b"" at the end of the stream."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (OSError, ssl.SSLError) as e:
                raise Closed(f"recv failed: {e}")
            if not chunk:
                raise Closed("closed by the client")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def apply(self, step, before_ending=None):
        """Runs the fault for `step`, if any. Returns the reply text of a "reply" fault, None
        otherwise; "drop" and "stall" end the connection (raise Closed), after running
        `before_ending`."""
        f = self.srv.fault(step, self.no)
        if f is None:
            return None
        action = f.get("action")
        self.log("fault", step=step, action=action, reply=f.get("reply"))
        if action in ("drop", "stall") and before_ending:
            before_ending()
        if action == "drop":
            self.close()
            raise Closed(f"dropped at {step}")
        if action == "stall":
            time.sleep(float(f.get("seconds", 3600)))
            self.log("stall_over", step=step)
            self.close()
            raise Closed(f"stalled at {step}")
        if action == "reply":
            return f["reply"]
        raise SystemExit(f"unknown action in {f}")

    def upgrade(self):
        self.sock = self.srv.ctx.wrap_socket(self.sock, server_side=True)
        self.tls = True

    # -- the dialogue -------------------------------------------------------------------------

    def run(self):
        s = self.srv.script
        self.log("connect")
        try:
            self.apply("connect")
            if s.get("implicit"):
                try:
                    self.upgrade()
                except (OSError, ssl.SSLError) as e:
                    self.log("tls_failed", error=str(e))
                    return
            # Dropped or stalled half-way through a (multi-line) greeting.
            answer = self.apply("greeting", before_ending=lambda: self.send("220-scripted.test starting\r\n"))
            if answer:
                self.reply(answer)
                # A refusing greeting: answer everything but QUIT with 503 until the client goes.
                while True:
                    line = self.readline().decode("utf-8", "replace").strip()
                    self.log("command", line=line)
                    if line.upper() == "QUIT":
                        self.reply("221 2.0.0 Bye")
                        return
                    self.reply("503 5.5.1 No service")
            self.reply("220 scripted.test ESMTP ready")
            while True:
                self.command()
        except Closed as e:
            self.log("closed", why=str(e))
        finally:
            self.close()

    def ehlo_lines(self):
        s = self.srv.script
        caps = ["8BITMIME", "SIZE 52428800", "ENHANCEDSTATUSCODES"]
        if s.get("smtputf8"):
            caps.append("SMTPUTF8")
        if not self.tls and s.get("starttls", True) and not s.get("implicit"):
            caps.append("STARTTLS")
        if self.tls or s.get("auth_before_tls"):
            mechs = s.get("auth", ["PLAIN", "LOGIN"])
            if mechs:
                caps.append("AUTH " + " ".join(mechs))
        lines = ["scripted.test greets you"] + caps
        return "".join(f"250{'-' if i < len(lines) - 1 else ' '}{l}\r\n" for i, l in enumerate(lines))

    def command(self):
        raw = self.readline()
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        verb = line.split(" ", 1)[0].upper()
        secret_in_clear = (not self.tls) and self.holds_secret(line)
        if verb == "AUTH":
            self.log("command", line=" ".join(line.split(" ")[:2]) + " …", verb=verb, credentials=True,
                     in_clear=not self.tls, secret_in_clear=secret_in_clear)
        else:
            self.log("command", line=line, verb=verb, secret_in_clear=secret_in_clear)
        if verb in ("EHLO", "HELO"):
            step = "ehlo_tls" if self.tls and not self.srv.script.get("implicit") else "ehlo"
            answer = self.apply(step)
            self.mail_from, self.rcpt = None, []
            if answer:
                self.reply(answer)
            else:
                self.send(self.ehlo_lines())
        elif verb == "STARTTLS":
            self.starttls()
        elif verb == "AUTH":
            self.auth(line)
        elif verb == "MAIL":
            answer = self.apply("mail")
            if answer:
                self.reply(answer)
            elif not self.authenticated:
                self.reply("530 5.7.0 Authentication required")
            else:
                self.mail_from = line[10:].split(">", 1)[0].lstrip("<") if line.upper().startswith("MAIL FROM:") else line
                self.mail_params = line.split(">", 1)[1].strip() if ">" in line else ""
                self.rcpt = []
                self.reply("250 2.1.0 Ok")
        elif verb == "RCPT":
            answer = self.apply("rcpt")
            if answer:
                self.reply(answer)
            elif self.mail_from is None:
                self.reply("503 5.5.1 MAIL first")
            else:
                self.rcpt.append(line[8:].split(">", 1)[0].lstrip("<"))
                self.reply("250 2.1.5 Ok")
        elif verb == "DATA":
            answer = self.apply("data")
            if answer:
                self.reply(answer)
            elif not self.rcpt:
                self.reply("503 5.5.1 RCPT first")
            else:
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                self.data()
        elif verb == "RSET":
            self.mail_from, self.rcpt = None, []
            self.reply("250 2.0.0 Ok")
        elif verb == "NOOP":
            self.reply("250 2.0.0 Ok")
        elif verb == "QUIT":
            self.reply("221 2.0.0 Bye")
            raise Closed("QUIT")
        else:
            self.reply("502 5.5.2 Command not recognised")

    def starttls(self):
        answer = self.apply("starttls")
        if answer:
            self.reply(answer)
            return
        if self.tls:
            self.reply("503 5.5.1 Already in TLS")
            return
        if self.buf:
            # The client sent more after STARTTLS without waiting (RFC 3207 §6 says discard it).
            self.log("client_pipelined_after_starttls", bytes=len(self.buf))
            self.buf = b""
        inject = self.srv.script.get("inject")
        if inject:
            self.log("injected", text=inject)
        self.send("220 2.0.0 Ready to start TLS\r\n" + (inject or ""))
        self.apply("tls")
        try:
            self.upgrade()
        except (OSError, ssl.SSLError) as e:
            self.log("tls_failed", error=str(e))
            raise Closed("TLS handshake failed")
        self.authenticated, self.mail_from, self.rcpt = False, None, []

    def holds_secret(self, line):
        """Whether a line carries the password, as is or base64-encoded (PLAIN or LOGIN)."""
        if self.password in line:
            return True
        for token in line.split():
            try:
                if self.password.encode() in base64.b64decode(token + "=" * (-len(token) % 4), validate=False):
                    return True
            except ValueError:
                continue
        return False

    def continuation(self):
        line = self.readline().decode("utf-8", "replace").strip()
        self.log("auth_continuation", credentials=True, in_clear=not self.tls,
                 secret_in_clear=(not self.tls) and self.holds_secret(line))
        return line

    def auth(self, line):
        answer = self.apply("auth")
        if answer:
            self.reply(answer)
            return
        parts = line.split(" ")
        mech = parts[1].upper() if len(parts) > 1 else ""
        if mech == "PLAIN":
            token = parts[2] if len(parts) > 2 else None
            if token is None:
                self.reply("334 ")
                token = self.continuation()
            try:
                _, user, password = base64.b64decode(token).decode().split("\0")
            except (ValueError, UnicodeDecodeError):
                self.reply("501 5.5.2 Cannot decode response")
                return
        elif mech == "LOGIN":
            try:
                if len(parts) > 2:
                    user = base64.b64decode(parts[2]).decode()
                else:
                    self.reply("334 VXNlcm5hbWU6")
                    user = base64.b64decode(self.continuation()).decode()
                self.reply("334 UGFzc3dvcmQ6")
                password = base64.b64decode(self.continuation()).decode()
            except (ValueError, UnicodeDecodeError):
                self.reply("501 5.5.2 Cannot decode response")
                return
        else:
            self.reply("504 5.5.4 Unrecognized authentication type")
            return
        self.log("auth_result", mechanism=mech, ok=(user, password) == (self.user, self.password))
        if not self.tls:
            self.reply("538 5.7.11 Encryption required for requested authentication mechanism")
        elif (user, password) == (self.user, self.password):
            self.authenticated = True
            self.reply("235 2.7.0 Authentication successful")
        else:
            self.reply("535 5.7.8 Authentication credentials invalid")

    def data(self):
        body = []
        bare_lf = 0
        early = None
        while True:
            raw = self.readline()
            if not raw.endswith(b"\r\n"):
                bare_lf += 1
            if raw == b".\r\n":
                break
            body.append(raw[1:] if raw.startswith(b".") else raw)
            if len(body) == 1:
                # Mid-body: a "reply" here is sent at once (an early refusal), the rest is read.
                early = self.apply("body")
                if early:
                    self.reply(early)
        content = b"".join(body)
        message = dict(mail_from=self.mail_from, rcpt_to=self.rcpt, params=self.mail_params, bytes=len(content),
                       sha256=hashlib.sha256(content).hexdigest(), bare_lf=bare_lf, authenticated=self.authenticated)
        if early:
            self.log("message", status="refused", reply=early, **message)
            self.mail_from, self.rcpt = None, []
            return
        # Dropped or stalled after the final dot: the server has the whole message, and the
        # client cannot know whether it will be delivered.
        answer = self.apply("dot", before_ending=lambda: self.log("message", status="unconfirmed", **message))
        if answer:
            self.log("message", status="refused", reply=answer, **message)
            self.reply(answer)
        else:
            n = self.srv.next_message()
            (self.srv.out / f"{n:04d}.eml").write_bytes(content)
            self.log("message", status="accepted", file=f"{n:04d}.eml", **message)
            self.reply("250 2.0.0 Ok: queued as SCRIPTED%04d" % n)
        self.mail_from, self.rcpt = None, []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--script", default="{}")
    a = ap.parse_args()
    script = json.loads(a.script)
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    server = Server(script, a.log, out, ctx)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    print(f"READY {listener.getsockname()[1]}", flush=True)
    while True:
        sock, _ = listener.accept()
        no = server.next_connection()
        threading.Thread(target=Session(server, sock, no).run, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
