#!/usr/bin/env python3
"""Stand-in for StableDiffusion.Server with the same HTTP shapes, for proving the nginx wiring alone.

Used by `tests/e2e/nginx/run.sh` with SD_E2E_UPSTREAM=fake. It builds absolute URLs from X-Forwarded-Proto/Host/
Prefix as the real server does, streams one SSE `logs` event per step with a delay (so buffering in the proxy is
visible as all events arriving at the end), and serves /metrics, so check-proxy.mjs runs unchanged against it.
It is not a model of the server's behaviour beyond that: only the standard library, no generation.
"""
import argparse
import base64
import json
import re
import threading
import time
import uuid
import zlib
import struct
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STEP_SECONDS = 0.03
MAX_BODY = 32 * 1024 * 1024
PREDICTIONS = {}
LOCK = threading.Lock()


def now_iso():
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def tiny_png():
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\x80\x40\x20" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = tiny_png()


class Prediction:
    def __init__(self, pid, inp):
        self.id = pid
        self.input = inp
        self.steps = int(inp.get("num_inference_steps", 20))
        self.status = "starting"
        self.created_at = now_iso()
        self.started_at = None
        self.completed_at = None
        self.logs = []
        self.output = None
        self.done = threading.Event()
        self.changed = threading.Condition()

    def run(self):
        self.started_at = now_iso()
        self.status = "processing"
        for step in range(1, self.steps + 1):
            time.sleep(STEP_SECONDS)
            with self.changed:
                self.logs.append(f"step {step}/{self.steps}")
                self.changed.notify_all()
        with self.changed:
            self.output = [f"files/{self.id}-0.png"]
            self.status = "succeeded"
            self.completed_at = now_iso()
            self.done.set()
            self.changed.notify_all()

    def to_json(self, base):
        urls = {"get": f"{base}/v1/predictions/{self.id}", "cancel": f"{base}/v1/predictions/{self.id}/cancel",
                "stream": f"{base}/v1/predictions/{self.id}/stream"}
        output = [f"{base}/v1/{o}" for o in self.output] if self.output else None
        return {"id": self.id, "model": "fake/demo", "version": "fake", "input": self.input,
                "logs": "\n".join(self.logs), "output": output, "error": None, "status": self.status,
                "created_at": self.created_at, "started_at": self.started_at, "completed_at": self.completed_at,
                "urls": urls}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def base_url(self):
        proto = self.headers.get("X-Forwarded-Proto", "http")
        host = self.headers.get("X-Forwarded-Host") or self.headers.get("Host", "localhost")
        prefix = (self.headers.get("X-Forwarded-Prefix") or "").rstrip("/")
        return f"{proto}://{host}{prefix}"

    def send(self, status, body, content_type="application/json", extra=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def problem(self, status, title):
        self.send(status, {"status": status, "title": title}, "application/problem+json")

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path in ("/health/live", "/health/ready"):
            return self.send(200, "Healthy", "text/plain")
        if path.lower().rstrip("/") == "/metrics":
            return self.send(200, "# HELP sd_fake_up Fake server.\n# TYPE sd_fake_up gauge\nsd_fake_up 1\n",
                             "text/plain; version=0.0.4")
        if path == "/":
            return self.send(200, "<!doctype html><title>fake playground</title>", "text/html")
        if path == "/openapi/v1.json":
            # Like Swashbuckle: the request's path base (X-Forwarded-Prefix) as the server.
            prefix = (self.headers.get("X-Forwarded-Prefix") or "").rstrip("/")
            return self.send(200, {"openapi": "3.1.1", "paths": {}, **({"servers": [{"url": prefix}]} if prefix else {})})
        if path == "/swagger/index.html":
            return self.send(200, '<!doctype html><script src="index.js"></script>', "text/html")
        if path == "/swagger/index.js":
            # A URL relative to the UI page, as the server must write it to work under a proxy prefix.
            return self.send(200, 'var configObject = {"urls":[{"url":"../openapi/v1.json","name":"v1"}]};',
                             "application/javascript")
        if path == "/echo-headers":
            return self.send(200, dict(self.headers.items()))
        m = re.fullmatch(r"/v1/files/([\w-]+)\.png", path)
        if m:
            return self.send(200, PNG, "image/png")
        m = re.fullmatch(r"/v1/predictions/([\w-]+)(/stream)?", path)
        if m:
            with LOCK:
                p = PREDICTIONS.get(m.group(1))
            if p is None:
                return self.problem(404, "prediction not found")
            if m.group(2):
                return self.stream(p)
            return self.send(200, p.to_json(self.base_url()))
        return self.problem(404, "not found")

    def stream(self, p):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        sent = 0
        while True:
            with p.changed:
                while len(p.logs) == sent and not p.done.is_set():
                    p.changed.wait(1)
                new = p.logs[sent:]
                finished = p.done.is_set() and len(p.logs) == sent + len(new)
            for line in new:
                self.wfile.write(f"event: logs\ndata: {line}\n\n".encode())
                self.wfile.flush()
            sent += len(new)
            if finished:
                base = self.base_url()
                for url in p.to_json(base)["output"]:
                    self.wfile.write(f"event: output\ndata: {url}\n\n".encode())
                self.wfile.write(b"event: done\ndata: {}\n\n")
                self.wfile.flush()
                return

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length", "0"))
        if length > MAX_BODY:
            self.close_connection = True
            return self.problem(413, "body too large")
        body = self.rfile.read(length)
        if path != "/v1/predictions":
            return self.problem(404, "not found")
        try:
            req = json.loads(body)
        except ValueError:
            return self.problem(400, "body is not JSON")
        inp = req.get("input") or {}
        image = inp.get("image")
        if image is not None:
            try:
                data = base64.b64decode(image.split(",", 1)[1][:64])
            except Exception:
                data = b""
            if not data.startswith(b"\x89PNG"):
                return self.problem(400, "input.image is not a PNG, JPEG or WebP image")
        p = Prediction(uuid.uuid4().hex[:16], inp)
        with LOCK:
            PREDICTIONS[p.id] = p
        threading.Thread(target=p.run, daemon=True).start()
        if "wait" in self.headers.get("Prefer", ""):
            p.done.wait(60)
        self.send(201, p.to_json(self.base_url()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
