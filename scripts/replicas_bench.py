#!/usr/bin/env python3
"""What scaling out costs and gives (issue 28; scripts/bench.sh, section 10).

Starts a private PostgreSQL cluster that logs every statement, then one,
two and three release auth-server replicas on it behind nginx
(deploy/nginx/auth-replicas.conf.template), and measures through nginx
with wrk: client_credentials tokens (a database read, the shared rate
limit, a signature), forward-auth (no database), and password logins.
One replica behind the same nginx is the baseline of each ratio. First,
straight to one replica, what sharing costs: tokens and logins with the
limits shared against the same with RATE_LIMIT_SHARED=false. During
the token run it also reads PostgreSQL's and auth-server's CPU time from
/proc: the database's share of the server core. Last, with three
replicas, wrk runs forward-auth and then tokens through the balancer while
one replica is killed (SIGKILL) 2 s in, and counts what failed (wrk does
not retry, so that is what the balancer could not save). And BENCH_ROUND_TRIPS
times, a logout on the first replica, timed until forward-auth on the
second refuses the token (polled every millisecond), against the same on
the first replica itself.

Round trips: with one replica, N logins, N refreshes and N
client_credentials requests are sent one by one straight to the replica,
and the statements PostgreSQL logged meanwhile are counted per request
(each statement is one round trip; sqlx prepares a statement once per
connection, so a cold connection costs one more for that statement).

Servers (PostgreSQL, nginx, replicas) run on BENCH_SERVER_CPU (0), wrk on
BENCH_LOAD_CPU (1): on a two-core machine the replicas share one core, so
the figures show the cost of sharing state, not the gain of more cores.

Prints one JSON object; reports, never asserts. Loopback only.

    scripts/replicas_bench.py target/release/auth-server
"""
import base64, json, os, re, secrets, shutil, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

binary = os.path.abspath(sys.argv[1])
root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
server_cpu = os.environ.get("BENCH_SERVER_CPU", "0")
load_cpu = os.environ.get("BENCH_LOAD_CPU", "1")
duration = os.environ.get("BENCH_REPLICA_DURATION", "5s")
rounds = int(os.environ.get("BENCH_ROUND_TRIPS", "20"))
pg_bin = os.environ.get("PG_BIN_DIR") or next(
    (d for d in sorted(
        (f"/usr/lib/postgresql/{v}/bin" for v in os.listdir("/usr/lib/postgresql")),
        reverse=True) if os.path.exists(f"{d}/initdb")), None) if os.path.isdir("/usr/lib/postgresql") else os.environ.get("PG_BIN_DIR")
if not pg_bin:
    sys.exit("replicas_bench.py needs PostgreSQL's server binaries (PG_BIN_DIR)")
work = tempfile.mkdtemp()
os.chmod(work, 0o755)
children = []


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    return port


def pinned(cpu, argv):
    return ["taskset", "-c", cpu] + argv


def as_postgres(argv):
    return (["runuser", "-u", "postgres", "--"] + argv) if os.geteuid() == 0 else argv


def wait_ready(url):
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except Exception:
            pass
        time.sleep(0.1)
    sys.exit(f"not ready: {url}")


def request(method, url, body=None, headers=None, form=False):
    data = None
    headers = dict(headers or {})
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
        return json.loads(text) if text else None


import urllib.parse  # noqa: E402  (after the helpers that use it lazily)

# PostgreSQL, logging every statement.
pg_dir = f"{work}/pg"
os.makedirs(pg_dir)
if os.geteuid() == 0:
    shutil.chown(work, "postgres"); shutil.chown(pg_dir, "postgres")
pg_port = free_port()
pg_log = f"{work}/pg/postgres.log"
subprocess.run(as_postgres([f"{pg_bin}/initdb", "-D", f"{pg_dir}/data", "-U", "signet", "--auth=trust",
                            "-E", "UTF8", "--no-sync"]), check=True, stdout=subprocess.DEVNULL)
subprocess.run(pinned(server_cpu, as_postgres([
    f"{pg_bin}/pg_ctl", "-D", f"{pg_dir}/data", "-l", pg_log, "-w", "start", "-o",
    f"-p {pg_port} -k {pg_dir} -c listen_addresses=127.0.0.1 -c log_statement=all "
    "-c log_line_prefix='%d ' -c fsync=off -c max_connections=200"])), check=True, stdout=subprocess.DEVNULL)
subprocess.run([f"{pg_bin}/psql", "-q", "-h", "127.0.0.1", "-p", str(pg_port), "-U", "signet", "-d", "postgres",
                "-c", "CREATE DATABASE auth"], check=True)

public = "https://auth.signet.test"
env = {
    "PATH": os.environ["PATH"], "LOG_FORMAT": "json", "RUST_LOG": "warn",
    "DATABASE_URL": f"postgres://signet@127.0.0.1:{pg_port}/auth", "JWT_ISSUER": public,
    "KEY_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    "KEYS_DIR": f"{work}/keys", "GENERATE_DEV_KEY": "false", "TRUSTED_PROXIES": "127.0.0.1",
    "MAIL_OUTBOX_DIR": f"{work}/outbox", "METRICS_ADDR": "127.0.0.1:0",
    "RATE_LIMIT_LOGIN_PER_IP": "100000000/1s", "RATE_LIMIT_SIGNUP_PER_IP": "100000000/1s",
    "RATE_LIMIT_TOKEN_PER_IP": "100000000/1s", "PASSWORD_HASH_QUEUE_PER_CLIENT": "100000",
    "PASSWORD_HASH_CONCURRENCY": "1",
}
subprocess.run([binary, "keys", "generate"], env=env, check=True, stdout=subprocess.DEVNULL, cwd=work)
ports = [free_port() for _ in range(3)]


def start_replica(port, extra=None):
    log = open(f"{work}/auth-{port}.log", "w")
    child = subprocess.Popen(pinned(server_cpu, [binary, "serve"]), cwd=work, stdout=log, stderr=log,
                             env={**env, **(extra or {}), "BIND_ADDR": f"127.0.0.1:{port}"})
    children.append(child)
    wait_ready(f"http://127.0.0.1:{port}/readyz")
    return child


replicas = [start_replica(ports[0])]
direct = f"http://127.0.0.1:{ports[0]}"
password = "correct horse battery staple"
request("POST", f"{direct}/api/v1/users", {"email": "bench@example.com", "password": password})
api_key = subprocess.run([binary, "api-keys", "create", "--name", "bench", "--scopes", "posts:write"], env=env,
                         cwd=work, check=True, capture_output=True, text=True).stdout.strip()
client_id = "_".join(api_key.split("_")[:2])
basic = base64.b64encode(f"{client_id}:{api_key}".encode()).decode()
login_body = {"email": "bench@example.com", "password": password}


def statements_during(action):
    """Statements PostgreSQL logged for the auth database while `action` ran, per call."""
    time.sleep(0.3)  # background tasks' reads of the moment land before the mark
    mark = os.path.getsize(pg_log)
    action()
    time.sleep(0.3)
    with open(pg_log, errors="replace") as f:
        f.seek(mark)
        text = f.read()
    return len(re.findall(r"^auth LOG:  (?:statement|execute)", text, re.M))


def background_rate():
    """Statements per second the idle replica sends (followers, sweeps), to subtract."""
    mark = os.path.getsize(pg_log)
    time.sleep(3)
    with open(pg_log, errors="replace") as f:
        f.seek(mark)
        return len(re.findall(r"^auth LOG:  (?:statement|execute)", f.read(), re.M)) / 3


def timed(action):
    start = time.monotonic(); action(); return time.monotonic() - start


idle_per_s = background_rate()


def per_request(action):
    elapsed = [0.0]
    def run():
        elapsed[0] = timed(action)
    total = statements_during(run)
    return round(max(0.0, (total - idle_per_s * (elapsed[0] + 0.6)) / rounds), 1) + 0.0


# Warm the connections' statement caches first.
for _ in range(3):
    request("POST", f"{direct}/api/v1/auth/login", login_body)
    request("POST", f"{direct}/oauth/token", {"grant_type": "client_credentials"},
            {"authorization": f"Basic {basic}"}, form=True)
login_rt = per_request(lambda: [request("POST", f"{direct}/api/v1/auth/login", login_body) for _ in range(rounds)])
chain = [request("POST", f"{direct}/api/v1/auth/login", login_body)["refresh_token"]]


def refreshes():
    for _ in range(rounds):
        chain[0] = request("POST", f"{direct}/oauth/token",
                           {"grant_type": "refresh_token", "refresh_token": chain[0]}, form=True)["refresh_token"]


refresh_rt = per_request(refreshes)
cc_rt = per_request(lambda: [request("POST", f"{direct}/oauth/token", {"grant_type": "client_credentials"},
                                     {"authorization": f"Basic {basic}"}, form=True) for _ in range(rounds)])
token = request("POST", f"{direct}/api/v1/auth/login", login_body)["access_token"]
verify_rt = per_request(lambda: [request("GET", f"{direct}/api/v1/auth/verify", headers={"authorization": f"Bearer {token}"})
                                 for _ in range(rounds)])

# nginx in front of the first n replicas.
with open(f"{root}/deploy/nginx/auth-replicas.conf.template") as f:
    template = f.read()
nginx_port = free_port()


def start_nginx(n):
    prefix = f"{work}/nginx-{n}"
    os.makedirs(prefix)
    config = template
    for name, value in {"LISTEN": f"127.0.0.1:{nginx_port}", "PREFIX": prefix,
                        "AUTH_REPLICA_A": f"127.0.0.1:{ports[0]}", "AUTH_REPLICA_B": f"127.0.0.1:{ports[1]}",
                        "AUTH_REPLICA_C": f"127.0.0.1:{ports[2]}"}.items():
        config = config.replace("${" + name + "}", value)
    for unused in "ABC"[n:]:
        config = re.sub(rf"^\s*server 127\.0\.0\.1:{ports['ABC'.index(unused)]} .*\n", "", config, flags=re.M)
    with open(f"{prefix}/nginx.conf", "w") as f:
        f.write(config)
    child = subprocess.Popen(pinned(server_cpu, [shutil.which("nginx") or "/usr/sbin/nginx", "-p", prefix, "-c",
                                                 f"{prefix}/nginx.conf", "-g", "daemon off;"]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{nginx_port}/readyz")
    return child


def cpu_seconds(command_name):
    """CPU time (user + system) of every process called `command_name`."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if name == command_name:
            fields = stat[stat.rindex(")") + 2:].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def wrk(path, connections, script=None, extra_env=None, headers=(), base=None):
    argv = pinned(load_cpu, ["wrk", "-t1", f"-c{connections}", f"-d{duration}"])
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", f"{root}/scripts/bench/{script}"]
    out = subprocess.run(argv + [f"{base or f'http://127.0.0.1:{nginx_port}'}{path}"], capture_output=True, text=True,
                         env={**os.environ, **(extra_env or {})}).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*", out)
    return round(rps), int(bad.group(1)) if bad else 0, errors.group(0) if errors else ""


def wrk_while_killing(path, script=None, extra_env=None, headers=()):
    """wrk through the three-replica balancer; the third replica is killed
    (SIGKILL) 2 s in. wrk does not retry: what it counts as failed is what
    the balancer could not save."""
    argv = pinned(load_cpu, ["wrk", "-t1", "-c32", "-d5s"])
    for h in headers:
        argv += ["-H", h]
    if script:
        argv += ["-s", f"{root}/scripts/bench/{script}"]
    run = subprocess.Popen(argv + [f"http://127.0.0.1:{nginx_port}{path}"], stdout=subprocess.PIPE, text=True,
                           env={**os.environ, **(extra_env or {})})
    time.sleep(2)
    victim = replicas.pop()
    victim.kill(); victim.wait()
    out = run.communicate()[0]
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)
    # Back to three for the next run.
    replicas.append(start_replica(ports[2]))
    return total, failed


# What sharing costs one replica: the same replica with RATE_LIMIT_SHARED=false
# (limits in memory only), both straight to the replica, no nginx.
unshared_port = free_port()
unshared = start_replica(unshared_port, {"RATE_LIMIT_SHARED": "false"})
sharing = {}
for label, base in (("shared", direct), ("unshared", f"http://127.0.0.1:{unshared_port}")):
    sharing[f"tokens_{label}"] = wrk("/oauth/token", 32, "token.lua", {"BENCH_BASIC": basic}, base=base)[0]
    sharing[f"logins_{label}"] = wrk("/api/v1/auth/login", 8, "login.lua",
                                     {"BENCH_LOGIN_BODY": json.dumps(login_body)}, base=base)[0]
unshared.terminate(); unshared.wait(); children.remove(unshared)

results = {}
for n in (1, 2, 3):
    while len(replicas) < n:
        replicas.append(start_replica(ports[len(replicas)]))
    balancer = start_nginx(n)
    before = (cpu_seconds("postgres"), cpu_seconds("auth-server"))
    tokens, tokens_bad, _ = wrk("/oauth/token", 32, "token.lua", {"BENCH_BASIC": basic})
    pg_cpu, auth_cpu = cpu_seconds("postgres") - before[0], cpu_seconds("auth-server") - before[1]
    verify, verify_bad, _ = wrk("/api/v1/auth/verify", 32, headers=[f"Authorization: Bearer {token}"])
    logins, logins_bad, _ = wrk("/api/v1/auth/login", 8, "login.lua", {"BENCH_LOGIN_BODY": json.dumps(login_body)})
    results[n] = {"tokens": tokens, "verify": verify, "logins": logins,
                  "non_2xx": tokens_bad + verify_bad + logins_bad,
                  # Where the token run's CPU went: PostgreSQL's share of the
                  # server core (with auth-server's), the database's cost per token.
                  "pg_share": round(pg_cpu / max(pg_cpu + auth_cpu, 1e-9), 2)}
    if n < 3:
        balancer.terminate(); balancer.wait()
# With three replicas, one killed under load (the balancer of n = 3 still runs).
killed = {
    "verify": wrk_while_killing("/api/v1/auth/verify", headers=[f"Authorization: Bearer {token}"]),
    "tokens": wrk_while_killing("/oauth/token", "token.lua", {"BENCH_BASIC": basic}),
}
balancer.terminate(); balancer.wait()


def status_of(method, url, token):
    req = urllib.request.Request(url, method=method, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


# A logout on the first replica, forward-auth on the second: how long until it refuses.
first, second = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
def logout_seen_by(watcher):
    """Milliseconds from a logout answered by the first replica until
    forward-auth on `watcher` refuses the token, sorted, BENCH_ROUND_TRIPS times."""
    seen = []
    for _ in range(rounds):
        access = request("POST", f"{first}/api/v1/auth/login", login_body)["access_token"]
        assert status_of("GET", f"{watcher}/api/v1/auth/verify", access) == 200
        assert status_of("POST", f"{first}/api/v1/auth/logout", access) == 204
        start = time.monotonic()
        while status_of("GET", f"{watcher}/api/v1/auth/verify", access) != 401:
            time.sleep(0.001)
        seen.append((time.monotonic() - start) * 1000)
    return sorted(seen)


# The baseline: the replica that recorded the logout (it learns of it the same way).
same_replica = logout_seen_by(first)
propagation = logout_seen_by(second)


def ratio(n, what):
    return round(results[n][what] / results[1][what], 2)


report = {
    **sharing,
    "tokens_shared_ratio": round(sharing["tokens_shared"] / sharing["tokens_unshared"], 2),
    "logins_shared_ratio": round(sharing["logins_shared"] / sharing["logins_unshared"], 2),
    "statements_per_login": login_rt, "statements_per_refresh": refresh_rt,
    "statements_per_client_credentials": cc_rt, "statements_per_forward_auth": verify_rt,
    "idle_statements_per_second_per_replica": round(idle_per_s, 1),
}
for n in (1, 2, 3):
    for what in ("tokens", "verify", "logins"):
        report[f"{what}_{n}"] = results[n][what]
        report[f"{what}_{n}_ratio"] = ratio(n, what)
    report[f"non_2xx_{n}"] = results[n]["non_2xx"]
    report[f"tokens_{n}_postgres_cpu_share"] = results[n]["pg_share"]
report["same_replica_logout_p50_ms"] = round(same_replica[len(same_replica) // 2], 1)
report["same_replica_logout_max_ms"] = round(same_replica[-1], 1)
report["cross_replica_logout_p50_ms"] = round(propagation[len(propagation) // 2], 1)
report["cross_replica_logout_max_ms"] = round(propagation[-1], 1)
for what, (total, failed) in killed.items():
    report[f"killed_{what}_requests"] = total
    report[f"killed_{what}_failed"] = failed
print(json.dumps(report))

for child in children:
    child.terminate()
for child in children:
    child.wait()
subprocess.run(as_postgres([f"{pg_bin}/pg_ctl", "-D", f"{pg_dir}/data", "-m", "fast", "stop"]),
               stdout=subprocess.DEVNULL)
shutil.rmtree(work, ignore_errors=True)
