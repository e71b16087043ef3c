-- Requests authenticated with tokens of a store filled by `tokend bench seed`:
-- token i is $BENCH_PREFIX followed by i in 10 digits and belongs to line (i % users) + 1
-- of $BENCH_USERS_FILE. $BENCH_MODE picks which tokens:
--   random   GET $BENCH_PATH (default /api/v1/me) with a token drawn uniformly from the
--            first $BENCH_SPAN tokens, on every request;
--   once     POST $BENCH_PATH with tokens first, first + 1, ... each used once (split
--            between wrk's threads), e.g. to log each of them out; run number $BENCH_RUN
--            (from 1) starts at first = $BENCH_FIRST + ($BENCH_RUN - 1) * $BENCH_PER_RUN.
local prefix = os.getenv("BENCH_PREFIX")
local mode = os.getenv("BENCH_MODE") or "random"
local path = os.getenv("BENCH_PATH") or "/api/v1/me"
local span = tonumber(os.getenv("BENCH_SPAN") or "1000")
local first = tonumber(os.getenv("BENCH_FIRST") or "0")
    + (tonumber(os.getenv("BENCH_RUN") or "1") - 1) * tonumber(os.getenv("BENCH_PER_RUN") or "0")
local users = {}
for id in io.lines(os.getenv("BENCH_USERS_FILE")) do
    if id ~= "" then users[#users + 1] = id end
end

local threads = 0
function setup(thread)
    thread:set("index", threads)
    threads = threads + 1
end

local step, next_token
function init(args)
    step = tonumber(os.getenv("BENCH_THREADS") or "1")
    next_token = first + index
    math.randomseed(os.time() * 1000 + index)
end

function request()
    local i
    if mode == "once" then
        i = next_token
        next_token = next_token + step
    else
        i = math.random(0, span - 1)
    end
    local headers = {
        ["X-User-Id"] = users[(i % #users) + 1],
        ["X-Auth-Token"] = string.format("%s%010d", prefix, i),
    }
    return wrk.format(mode == "once" and "POST" or "GET", path, headers)
end
