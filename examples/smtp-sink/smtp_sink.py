"""A loopback SMTP server that keeps every message it receives, for tests and the demo.

    /usr/bin/python3 smtp_sink.py --dir DIR [--port 0] [--starttls CERT KEY] [--require-starttls]
                                  [--implicit-tls CERT KEY] [--require-auth USER PASS]
                                  [--fail-first N CODE]

Binds 127.0.0.1 only. The first stdout line is `PORT <n>` (flushed), so a test can start it on
port 0 and read the port. Each accepted message becomes DIR/<n>.json (n = 1, 2, ...) with
{mail_from, rcpt_tos, data} (data: the raw message as received, dot-unstuffed) and `parsed`, the
message as Python's `email` package reads it ({headers: [[name, value], ...] decoded, body,
defects}), an independent check of the sender's encoding. Files are written to a temporary
name and renamed, and before the 250 reply, so a sender that saw success can read them at once.

--starttls offers STARTTLS; --require-starttls refuses MAIL before it. --implicit-tls speaks
TLS from the first byte (smtps). --require-auth demands AUTH (PLAIN/LOGIN) before MAIL.
--fail-first N CODE answers the first N messages' DATA with CODE (e.g. 451 or 550).
Exits cleanly on SIGTERM or SIGINT. Needs python3-aiosmtpd (Debian: /usr/bin/python3).
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    """aiosmtpd handler: stores messages, optionally failing the first few."""

    def __init__(self, directory, fail_count, fail_code):
        self.directory = directory
        self.fail_left = fail_count
        self.fail_code = fail_code
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            return f"{self.fail_code} sink told to fail (--fail-first)"
        raw = envelope.original_content or envelope.content or b""
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": raw.decode("utf-8", errors="replace"),
            "parsed": parse(raw),
        }
        final = os.path.join(self.directory, f"{self.count}.json")
        tmp = os.path.join(self.directory, f".{self.count}.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False, indent=1)
        os.replace(tmp, final)
        return "250 OK stored"


def parse(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    defects = [type(d).__name__ for d in msg.defects]
    headers = []
    for name, value in msg.items():
        headers.append([name, str(value)])
        defects += [type(d).__name__ for d in getattr(value, "defects", ())]
    try:
        body = msg.get_content()
    except Exception as e:  # a broken body is what the test wants to see, not a crash
        body = None
        defects.append("get_content: " + type(e).__name__)
    return {"headers": headers, "body": body, "defects": defects}


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def serve(args):
    handler = Sink(args.dir, *(args.fail_first or (0, 0)))
    smtp_kwargs = {"hostname": "sink.test"}
    if args.starttls:
        smtp_kwargs["tls_context"] = tls_context(*args.starttls)
        smtp_kwargs["require_starttls"] = args.require_starttls
    if args.require_auth:
        user, password = (s.encode() for s in args.require_auth)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and \
                auth_data.login == user and auth_data.password == password
            # handled=False: aiosmtpd then answers 535 itself (handled=True would stay silent).
            return AuthResult(success=ok, handled=False)

        smtp_kwargs["auth_required"] = True
        smtp_kwargs["authenticator"] = authenticator
        # Only TLS-capable runs insist on TLS before AUTH; a plaintext sink on loopback is
        # how a test checks AUTH without certificates.
        smtp_kwargs["auth_require_tls"] = bool(args.starttls or args.implicit_tls)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, **smtp_kwargs), host="127.0.0.1", port=args.port,
        ssl=tls_context(*args.implicit_tls) if args.implicit_tls else None)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--implicit-tls", nargs=2, metavar=("CERT", "KEY"))
    p.add_argument("--require-auth", nargs=2, metavar=("USER", "PASS"))
    p.add_argument("--fail-first", nargs=2, type=int, metavar=("N", "CODE"))
    args = p.parse_args()
    if args.require_starttls and not args.starttls:
        p.error("--require-starttls needs --starttls CERT KEY")
    os.makedirs(args.dir, exist_ok=True)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
