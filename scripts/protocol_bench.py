#!/usr/bin/env python3
"""What the protocol reach of issue 27 costs, each against a baseline
measured in the same run (scripts/bench.sh, section 9). Starts the release
auth-server on SQLite on http://localhost:<free port> with client metadata
documents from localhost allowed, serves a client metadata document itself
(a thread on loopback), and times, sequentially, medians of 50:

- the authorization endpoint's sign-in page for a registered client (the
  baseline) and for a client known by its document, cached (and the one
  uncached fetch, from loopback);
- a client_credentials token (the baseline), a pushed authorization request,
  a device authorization, and a pending device poll;
- the security-event feed read (the baseline) and an SSF poll, both empty.

Prints one JSON object; reports, never asserts. Loopback only.

    scripts/protocol_bench.py target/release/auth-server
"""
import base64, hashlib, http.server, json, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time, urllib.parse, urllib.request

binary = os.path.abspath(sys.argv[1])
work = tempfile.mkdtemp()


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    return port


port = free_port()
base = f"http://localhost:{port}"
REDIRECT = "http://127.0.0.1:9/callback"
env = {
    "PATH": os.environ["PATH"], "BIND_ADDR": f"127.0.0.1:{port}", "METRICS_ADDR": "127.0.0.1:0",
    "JWT_ISSUER": base, "DATABASE_URL": f"sqlite://{work}/auth.db?mode=rwc", "KEYS_DIR": f"{work}/keys",
    "MAIL_OUTBOX_DIR": f"{work}/outbox", "CLIENT_METADATA_ALLOW_LOCALHOST": "true",
    "RATE_LIMIT_TOKEN_PER_IP": "1000000/1m", "RATE_LIMIT_LOGIN_PER_IP": "1000000/1m",
    "RUST_LOG": "warn",
}

# The client's own document, on its own loopback server.
doc_port = free_port()
CLIENT_ID = f"http://localhost:{doc_port}/client.json"
DOCUMENT = json.dumps({
    "client_id": CLIENT_ID, "client_name": "Bench Agent", "redirect_uris": [REDIRECT],
    "token_endpoint_auth_method": "none",
}).encode()


class Doc(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("cache-control", "max-age=300")
        self.send_header("content-length", str(len(DOCUMENT)))
        self.end_headers()
        self.wfile.write(DOCUMENT)

    def log_message(self, *args):
        pass


threading.Thread(target=http.server.ThreadingHTTPServer(("127.0.0.1", doc_port), Doc).serve_forever, daemon=True).start()


def cli(*args, extra_env=None):
    out = subprocess.run([binary, *args], env={**env, **(extra_env or {})}, cwd=work, check=True, capture_output=True, text=True)
    return out.stdout.strip()


PW = "a long admin passphrase"
cli("users", "create-admin", "--email", "bench@example.com", extra_env={"ADMIN_PASSWORD": PW})
registered = json.loads(cli("clients", "create", "--name", "Bench RP", "--public", "--redirect-uri", REDIRECT,
                            "--grant", "authorization_code", "--grant", "device_code"))["client_id"]
api_key = cli("api-keys", "create", "--name", "bench", "--scopes", "events:read ssf:stream")
key_id = "_".join(api_key.split("_")[:2])
basic = "Basic " + base64.b64encode(f"{key_id}:{api_key}".encode()).decode()

server = subprocess.Popen([binary], env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz"); break
        except Exception:
            time.sleep(0.05)

    def request(method, path, body=None, headers=None, form=None):
        data = None
        headers = dict(headers or {})
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
        t = time.perf_counter()
        try:
            r = urllib.request.urlopen(req); code = r.status; out = r.read()
        except urllib.error.HTTPError as e:
            code = e.code; out = e.read()
        return code, out, time.perf_counter() - t

    def median_ms(fn, n=50):
        times = []
        for _ in range(n):
            times.append(fn())
        return round(statistics.median(times) * 1000, 2)

    verifier = "bench-verifier-0123456789-abcdefghijklmnopqrstuvwxyz"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()

    def authorize(client_id):
        query = urllib.parse.urlencode({
            "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
            "scope": "openid", "state": "s", "code_challenge": challenge, "code_challenge_method": "S256",
        })
        code, _, dt = request("GET", "/oauth/authorize?" + query)
        assert code == 200, code
        return dt

    first_fetch_ms = round(authorize(CLIENT_ID) * 1000, 2)
    authorize_registered = median_ms(lambda: authorize(registered))
    authorize_document = median_ms(lambda: authorize(CLIENT_ID))

    def client_credentials():
        code, _, dt = request("POST", "/oauth/token", form={"grant_type": "client_credentials"}, headers={"authorization": basic})
        assert code == 200, code
        return dt

    def par():
        code, _, dt = request("POST", "/oauth/par", form={
            "client_id": registered, "response_type": "code", "redirect_uri": REDIRECT, "scope": "openid",
            "code_challenge": challenge, "code_challenge_method": "S256"})
        assert code == 201, code
        return dt

    def device():
        code, out, dt = request("POST", "/oauth/device_authorization", form={"client_id": registered})
        assert code == 200, code
        return dt

    token_ms = median_ms(client_credentials)
    par_ms = median_ms(par)
    device_ms = median_ms(device)
    _, out, _ = request("POST", "/oauth/device_authorization", form={"client_id": registered})
    device_code = json.loads(out)["device_code"]
    pending = []
    for i in range(50):
        # A new request each time: a pending one polled again at once is slow_down.
        _, out, _ = request("POST", "/oauth/device_authorization", form={"client_id": registered})
        dc = json.loads(out)["device_code"]
        code, body, dt = request("POST", "/oauth/token", form={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": dc, "client_id": registered})
        assert code == 400 and json.loads(body)["error"] == "authorization_pending", body
        pending.append(dt)
    poll_ms = round(statistics.median(pending) * 1000, 2)

    def feed():
        code, _, dt = request("GET", "/api/v1/security-events?after=999999999", headers={"authorization": basic})
        assert code == 200, code
        return dt

    code, out, _ = request("POST", "/ssf/streams", body={"delivery": {"method": "urn:ietf:rfc:8936"}}, headers={"authorization": basic})
    assert code == 201, code
    poll_path = urllib.parse.urlparse(json.loads(out)["delivery"]["endpoint_url"]).path

    def ssf_poll():
        code, _, dt = request("POST", poll_path, body={"ack": []}, headers={"authorization": basic})
        assert code == 200, code
        return dt

    feed_ms = median_ms(feed)
    ssf_ms = median_ms(ssf_poll)
    ratio = lambda a, b: round(a / b, 2)
    print(json.dumps({
        "authorize_registered_ms": authorize_registered,
        "authorize_document_cached_ms": authorize_document,
        "authorize_document_ratio": ratio(authorize_document, authorize_registered),
        "document_first_fetch_ms": first_fetch_ms,
        "client_credentials_ms": token_ms,
        "par_ms": par_ms, "par_ratio": ratio(par_ms, token_ms),
        "device_authorization_ms": device_ms, "device_authorization_ratio": ratio(device_ms, token_ms),
        "device_poll_pending_ms": poll_ms, "device_poll_ratio": ratio(poll_ms, token_ms),
        "feed_read_ms": feed_ms, "ssf_poll_ms": ssf_ms, "ssf_poll_ratio": ratio(ssf_ms, feed_ms),
    }))
finally:
    server.terminate()
    server.wait(timeout=10)
    shutil.rmtree(work, ignore_errors=True)
