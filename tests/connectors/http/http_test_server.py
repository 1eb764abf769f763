"""A loopback HTTP(S) server for the http connector's tests.

    /usr/bin/python3 http_test_server.py --webhook-secret S [--tls CERT KEY]
                                         [--mtls CERT KEY CA] [--cleanup DIR]

Binds 127.0.0.1 on ephemeral ports: plain HTTP always, HTTPS with --tls, and HTTPS that
requires a client certificate signed by CA with --mtls. The first stdout line (flushed) is
JSON: {"http": PORT, "https": PORT or null, "mtls": PORT or null}.

Paths (any method):
  /echo, /echo/...      200 JSON {method, path, query: {k: [v]}, headers: {lower-case: v},
                        body (text), client_cn (the client certificate's CN, or null),
                        client_port (the connection's port on the client's side)}
  /status/N             status N, JSON {"status": N}; ?retry_after=V adds Retry-After: V
  /slow?ms=N            sleeps N ms, then 200 JSON
  /huge                 streams 100 MB of 'x' without Content-Length (connection closes);
                        ?declare=1 announces Content-Length: 104857600 first
  /badjson              200, Content-Type: application/json, a body that is not JSON
  /text, /binary        200 text/plain "hello, world"; 200 application/octet-stream non-UTF-8
  /multi                200 with two X-Multi headers and mixed-case names
  /redirect?to=URL      302 (or ?code=N) with Location: URL
  /webhook              200 {"verified": true} when X-Vigil-Signature is sha256=<hex
                        HMAC-SHA256(webhook secret, X-Vigil-Timestamp "\n" Idempotency-Key
                        "\n" body)>, else 401 {"verified": false};
                        422 when the signature holds but the Content-Type, Idempotency-Key
                        or X-Vigil-Timestamp (within 5 minutes of now) is missing or wrong
  /webhook/last         200 JSON {headers, body} of the last request to /webhook

SIGTERM (also sent when the test process dies: PR_SET_PDEATHSIG) exits at once, removing
--cleanup DIR first, so a crashed test leaves no keys behind. Standard library only.
"""
import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_BYTES = 100 * 1024 * 1024
CHUNK = b"x" * 65536


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    webhook_secret = b""
    last_webhook = {}

    def setup(self):
        # TLS handshakes run here, in the request's thread, so a client that gives up
        # mid-handshake never stalls the accept loop.
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def log_message(self, *args):
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def _send(self, status, payload, content_type="application/json", extra=()):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _client_cn(self):
        if not isinstance(self.request, ssl.SSLSocket):
            return None
        cert = self.request.getpeercert()
        for rdn in (cert or {}).get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    return value
        return None

    def _huge(self, declare):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if declare:
            self.send_header("Content-Length", str(HUGE_BYTES))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        sent = 0
        try:
            while sent < HUGE_BYTES:
                self.wfile.write(CHUNK)
                sent += len(CHUNK)
        except OSError:
            self.close_connection = True  # the client hung up: what the test wants

    def _webhook(self, body):
        Handler.last_webhook = {"headers": {k.lower(): v for k, v in self.headers.items()},
                                "body": body.decode("utf-8", "replace")}
        # The signed text: X-Vigil-Timestamp, newline, Idempotency-Key, newline, body.
        signed = (self.headers.get("X-Vigil-Timestamp", "") + "\n" +
                  self.headers.get("Idempotency-Key", "") + "\n").encode() + body
        expected = "sha256=" + hmac.new(self.webhook_secret, signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, self.headers.get("X-Vigil-Signature", "")):
            self._send(401, {"verified": False})
            return
        stamp = self.headers.get("X-Vigil-Timestamp", "")
        well_formed = (self.command == "POST"
                       and self.headers.get("Content-Type") == "application/json"
                       and self.headers.get("Idempotency-Key")
                       and stamp.isdigit() and abs(int(stamp) - time.time()) < 300)
        self._send(200 if well_formed else 422, {"verified": bool(well_formed)})

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        one = lambda name, default=None: query.get(name, [default])[0]
        body = self._body()
        path = url.path
        if path == "/echo" or path.startswith("/echo/"):
            self._send(200, {
                "method": self.command,
                "path": path,
                "query": query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "client_cn": self._client_cn(),
                "client_port": self.client_address[1],
            })
        elif path.startswith("/status/"):
            status = int(path[len("/status/"):])
            extra = [("Retry-After", one("retry_after"))] if one("retry_after") else []
            self._send(status, {"status": status}, extra=extra)
        elif path == "/slow":
            time.sleep(int(one("ms", "1000")) / 1000)
            self._send(200, {"slept": True})
        elif path == "/huge":
            self._huge(one("declare") == "1")
        elif path == "/answer":
            # A lookup's answer as the test asks for it: ?found=true|false|absent&count=N.
            answer = {} if one("found") == "absent" else {"found": one("found") == "true"}
            if one("count") is not None:
                answer["count"] = int(one("count"))
            self._send(200, answer)
        elif path == "/badjson":
            self._send(200, b'{"unterminated": [1, 2', content_type="application/json")
        elif path == "/text":
            self._send(200, b"hello, world", content_type="text/plain; charset=utf-8")
        elif path == "/binary":
            self._send(200, b"\xff\xfe\x00\x01binary", content_type="application/octet-stream")
        elif path == "/multi":
            self._send(200, {"ok": True}, extra=[("X-Multi", "one"), ("X-Multi", "two"), ("X-MiXeD-Case", "yes")])
        elif path == "/redirect":
            self._send(int(one("code", "302")), b"", content_type="text/plain", extra=[("Location", one("to", "/"))])
        elif path == "/webhook":
            self._webhook(body)
        elif path == "/webhook/last":
            self._send(200, Handler.last_webhook)
        else:
            self._send(404, {"error": "no such path"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that time out or hang up on purpose are the point of these tests


def serve(context):
    server = Server(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def tls_context(cert, key, client_ca=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--webhook-secret", required=True)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--mtls", nargs=3, metavar=("CERT", "KEY", "CA"))
    parser.add_argument("--cleanup")
    args = parser.parse_args()

    def stop(*_):
        if args.cleanup:
            shutil.rmtree(args.cleanup, ignore_errors=True)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    Handler.webhook_secret = args.webhook_secret.encode()
    ports = {
        "http": serve(None),
        "https": serve(tls_context(*args.tls)) if args.tls else None,
        "mtls": serve(tls_context(args.mtls[0], args.mtls[1], args.mtls[2])) if args.mtls else None,
    }
    print(json.dumps(ports), flush=True)
    # Not signal.pause(): a signal taken by one of the serving threads would not wake it,
    # and the server would outlive its test. Python runs the handler between sleeps.
    while True:
        time.sleep(0.2)


if __name__ == "__main__":
    main()
