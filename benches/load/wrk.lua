-- wrk script of benches/load.py (issue 14): the repayment load and the read load.
--
--   wrk -t2 -c4 -d15s -s benches/load/wrk.lua URL -- MODE TOKEN IDS_FILE VALUE_DATE RUN DELAY_MS
--
-- MODE `repay`: POST /api/v1/loans/{id}/repayments of 1,000 đồng on a loan drawn at random from IDS_FILE
-- (one id a line), each request with its own Idempotency-Key (RUN-thread-counter), so none is a replay.
-- MODE `read`: GET /api/v1/loans/{id} of the first id in IDS_FILE.
-- DELAY_MS > 0 waits that long after each response (a paced, below-maximum load).
-- The summary is one line `JSON {...}` on stdout (latencies in microseconds), read by load.py.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

local mode, token, value_date, run, delay_ms
local ids = {}
local counter = 0
local failures_shown = 0
local headers = {}

function init(args)
  mode, token, value_date, run = args[1], args[2], args[4], args[5]
  delay_ms = tonumber(args[6] or "0") or 0
  for line in io.lines(args[3]) do
    if line ~= "" then ids[#ids + 1] = line end
  end
  math.randomseed(os.time() + 7919 * tid)
  headers["Authorization"] = "Bearer " .. token
  headers["Content-Type"] = "application/json"
end

function request()
  if mode == "read" then
    return wrk.format("GET", "/api/v1/loans/" .. ids[1], headers, nil)
  end
  counter = counter + 1
  local id = ids[math.random(#ids)]
  headers["Idempotency-Key"] = string.format("%s-%d-%d", run, tid, counter)
  local body = string.format(
    '{"amount_vnd":1000,"value_date":"%s","reference":"LOAD %s-%d-%d"}',
    value_date, run, tid, counter)
  return wrk.format("POST", "/api/v1/loans/" .. id .. "/repayments", headers, body)
end

function delay()
  return delay_ms
end

function response(status, _, body)
  -- A refused request is counted by wrk (status > 399); the first few are shown so a broken run is obvious.
  if status > 399 and failures_shown < 3 then
    failures_shown = failures_shown + 1
    io.stderr:write(string.format("wrk: HTTP %d %s\n", status, string.sub(body or "", 1, 300)))
  end
end

function done(summary, latency, _)
  io.write(string.format(
    'JSON {"requests":%d,"duration_us":%d,"errors_status":%d,"errors_connect":%d,"errors_read":%d,'
      .. '"errors_write":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
