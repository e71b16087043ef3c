-- Generates personal access tokens with names unique across threads and runs
-- ($BENCH_TAG and $BENCH_RUN tell the runs apart); the caller's 2FA remember window must
-- be open (a first generation with the password as second factor opens it).
local threads = 0
function setup(thread)
    thread:set("index", threads)
    threads = threads + 1
end

local n = 0
function request()
    n = n + 1
    local tag = (os.getenv("BENCH_TAG") or "") .. "-" .. (os.getenv("BENCH_RUN") or "0")
    local body = string.format('{"tokenName":"b%s-%d-%d"}', tag, index, n)
    -- wrk.format uses only the headers it is given: start from those of the -H flags.
    local headers = {["Content-Type"] = "application/json"}
    for k, v in pairs(wrk.headers) do headers[k] = v end
    return wrk.format("POST", "/api/v1/users.generatePersonalAccessToken", headers, body)
end
