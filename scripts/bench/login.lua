-- POST /api/v1/auth/login with BENCH_LOGIN_BODY (JSON).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_LOGIN_BODY")
