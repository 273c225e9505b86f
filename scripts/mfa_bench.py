#!/usr/bin/env python3
"""Two-step sign-in's cost, measured against the password login in the same
run (scripts/bench.sh, section 8). Starts the release auth-server on SQLite
with its production Argon2 parameters on http://localhost:<free port>, sets
up an authenticator app through the pages as a browser would, then times:
the password login of an account without a factor (the baseline), the
password step of an account with one (it opens a challenge instead of a
session), and the second step with a recovery code (audit row, mail queued,
session). Prints one JSON object; reports, never asserts. Loopback only.

    scripts/mfa_bench.py target/release/auth-server
"""
import base64, shutil, hashlib, hmac, http.cookiejar, json, os, re, socket, struct, subprocess, statistics, sys, tempfile, time, urllib.parse, urllib.request

binary = os.path.abspath(sys.argv[1])
work = tempfile.mkdtemp()
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
base = f"http://localhost:{port}"
env = {
    "PATH": os.environ["PATH"], "BIND_ADDR": f"127.0.0.1:{port}", "METRICS_ADDR": "127.0.0.1:0",
    "JWT_ISSUER": base, "DATABASE_URL": f"sqlite://{work}/auth.db?mode=rwc", "KEYS_DIR": f"{work}/keys",
    "MAIL_OUTBOX_DIR": f"{work}/outbox", "RATE_LIMIT_LOGIN_PER_IP": "100000/1m",
    "LOGIN_FAILURES_BEFORE_BACKOFF": "100000", "LOG_LEVEL": "warn", "RUST_LOG": "warn",
}
PW = "a long admin passphrase"
subprocess.run([binary, "users", "create-admin", "--email", "bench@example.com"], env={**env, "ADMIN_PASSWORD": PW}, cwd=work, check=True, capture_output=True)
server = subprocess.Popen([binary], env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/healthz"); break
        except Exception:
            time.sleep(0.05)
    def post_json(path, body):
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"content-type": "application/json"})
        t = time.perf_counter()
        try:
            r = urllib.request.urlopen(req); code = r.status; data = r.read()
        except urllib.error.HTTPError as e:
            code = e.code; data = e.read()
        return code, json.loads(data or b"{}"), time.perf_counter() - t
    login = {"email": "bench@example.com", "password": PW}
    pw_times = []
    for _ in range(20):
        code, _, dt = post_json("/api/v1/auth/login", login); assert code == 200, code; pw_times.append(dt)
    # Set up an app through the pages, as a browser would.
    jar = http.cookiejar.CookieJar()
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k): return None
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    def page(path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(base + path, data=data, headers={"origin": base, "sec-fetch-site": "same-origin"})
        try:
            r = opener.open(req); return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
    csrf = lambda html: re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    _, html = page("/account/sign-in")
    page("/account/sign-in", {"csrf_token": csrf(html), "email": "bench@example.com", "password": PW})
    _, html = page("/account/security")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)
    def totp(at):
        key = base64.b32decode(secret)
        msg = struct.pack(">Q", int(at) // 30)
        h = hmac.new(key, msg, hashlib.sha1).digest()
        o = h[-1] & 15
        return "%06d" % ((struct.unpack(">I", h[o:o+4])[0] & 0x7fffffff) % 1000000)
    _, html = page("/account/security/totp", {"csrf_token": csrf(html), "code": totp(time.time())})
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", html)
    assert len(codes) == 10, html[:400]
    first, second = [], []
    for rc in codes:
        code, body, dt1 = post_json("/api/v1/auth/login", login); assert code == 401, code
        code, _, dt2 = post_json("/api/v1/auth/login/mfa", {"mfa_token": body["mfa_token"], "code": rc}); assert code == 200, code
        first.append(dt1); second.append(dt2)
    ms = lambda xs: round(statistics.median(xs) * 1000, 1)
    print(json.dumps({
        "password_login_ms": ms(pw_times),
        "password_step_ms": ms(first),
        "recovery_code_step_ms": ms(second),
    }))
finally:
    server.terminate(); server.wait()
    shutil.rmtree(work, ignore_errors=True)
