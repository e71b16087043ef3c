-- Requests authenticated with tokens of a store filled by `tokend bench seed`: token i is
-- $BENCH_PREFIX followed by i in 10 digits and belongs to line (i % users) + 1 of
-- $BENCH_USERS_FILE. Which token each request presents ($BENCH_PICK):
--   random      drawn uniformly from tokens $BENCH_FIRST .. $BENCH_FIRST + $BENCH_SPAN - 1;
--   sequential  each token once, split between wrk's threads, from $BENCH_FIRST for run 1
--               and $BENCH_PER_RUN tokens further for each later run ($BENCH_RUN);
--   cycle       tokens $BENCH_FIRST .. + $BENCH_SPAN - 1 in turn, over and over (every request
--               a different token until the span wraps: the worst case for a cache).
-- $BENCH_SAYMON=1 presents user (i % users)'s SAYMON API token (`bench seed` gives each user
-- 5eed0000-0000-4000-8000-<index in 12 hex digits>) as ?api-token= instead.
-- $BENCH_METHOD $BENCH_PATH (GET /api/v1/me); $BENCH_SEEDED_BODY=pat sends a PAT name unique
-- across threads and runs ($BENCH_TAG and $BENCH_RUN keep runs apart).
local prefix = os.getenv("BENCH_PREFIX")
local pick = os.getenv("BENCH_PICK") or "random"
local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/api/v1/me"
local pat_body = os.getenv("BENCH_SEEDED_BODY") == "pat"
local saymon = os.getenv("BENCH_SAYMON") == "1"
local run = tonumber(os.getenv("BENCH_RUN") or "1")
local span = tonumber(os.getenv("BENCH_SPAN") or "1000")
local first = tonumber(os.getenv("BENCH_FIRST") or "0")
if pick == "sequential" then
    first = first + (run - 1) * tonumber(os.getenv("BENCH_PER_RUN") or "0")
end
local users = {}
for id in io.lines(os.getenv("BENCH_USERS_FILE")) do
    if id ~= "" then users[#users + 1] = id end
end

local threads = 0
function setup(thread)
    thread:set("index", threads)
    threads = threads + 1
end

local step, next_token, sent
-- Random and cycling picks without a PAT body send requests known in advance: they are built
-- here, in init(), which wrk runs before its clock starts, so that request() is one table
-- lookup. Formatting each request in Lua took a share of the 2 CPUs the server shares with
-- wrk (one token through this script read a p99 of 5 ms where the same request with fixed
-- headers read 3 ms). The cycle keeps its order: this thread's tokens, in turn.
local prebuilt, cursor

local function build(i)
    if saymon then
        local u = i % #users
        return wrk.format("GET", string.format("/node/api/users/current?api-token=5eed0000-0000-4000-8000-%012x", u))
    end
    local headers = {
        ["X-User-Id"] = users[(i % #users) + 1],
        ["X-Auth-Token"] = string.format("%s%010d", prefix, i),
    }
    local body = nil
    if pat_body then
        sent = sent + 1
        headers["Content-Type"] = "application/json"
        body = string.format('{"tokenName":"b%s-%d-%d-%d"}', os.getenv("BENCH_TAG") or "", run, index, sent)
    end
    return wrk.format(method, path, headers, body)
end

function init(args)
    step = tonumber(os.getenv("BENCH_THREADS") or "1")
    next_token = first + index
    sent = 0
    math.randomseed(os.time() * 1000 + index)
    if pat_body or pick == "sequential" then
        return
    end
    prebuilt, cursor = {}, 0
    if pick == "cycle" then
        for k = index, span - 1, step do
            prebuilt[#prebuilt + 1] = build(first + k)
        end
    else
        for k = 0, span - 1 do
            prebuilt[k + 1] = build(first + k)
        end
    end
end

function request()
    if prebuilt then
        if pick == "cycle" then
            cursor = cursor % #prebuilt + 1
            return prebuilt[cursor]
        end
        return prebuilt[math.random(1, #prebuilt)]
    end
    local i = next_token -- sequential (each token once) or a PAT body
    if pick == "sequential" then
        next_token = next_token + step
    elseif pick == "cycle" then
        i = first + (next_token - first) % span
        next_token = next_token + step
    else
        i = first + math.random(0, span - 1)
    end
    return build(i)
end
