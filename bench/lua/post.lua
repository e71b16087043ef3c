-- POSTs the JSON body in $BENCH_BODY (headers come from wrk's -H flags).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/json"
