-- wrk script: replays pre-signed requests from REQUESTS_FILE, one list per thread, and
-- optionally offers them at a constant RATE (requests per second, all threads together).
-- Prints one JSON line.
--
-- The rate: each thread keeps a schedule of send times, one every WRK_THREADS * 1000 / RATE
-- ms, and each answered connection waits (wrk's delay()) for the next free time on it. A thread
-- that falls behind sends at once until it has caught up, and counts each send more than 1 ms
-- after its time as late: a constant rate the server could not keep up with shows there,
-- instead of being slowed to the server's pace as a fixed pause after each answer would be.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local CLOCK_MONOTONIC = 1

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("REQUESTS_FILE")
  local total_threads = tonumber(os.getenv("WRK_THREADS"))
  local rate = tonumber(os.getenv("RATE") or "0")
  interval_ms = rate > 0 and total_threads * 1000 / rate or 0
  next_send = nil
  late = 0
  requests = {}
  local index = 0
  for line in io.lines(path) do
    if index % total_threads == id then
      local msg_id, stamp, signature, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
      local headers = {
        ["content-type"] = "application/json",
        ["webhook-id"] = msg_id,
        ["webhook-timestamp"] = stamp,
        ["webhook-signature"] = signature,
      }
      table.insert(requests, wrk.format("POST", "/webhook", headers, body))
    end
    index = index + 1
  end
  position = 0
  available = #requests
  sent = 0
  non_2xx = 0
end

function request()
  position = position % #requests + 1
  sent = sent + 1
  return requests[position]
end

function delay()
  if interval_ms == 0 then
    return 0
  end
  local now = now_ms()
  next_send = (next_send or now) + interval_ms
  local wait = next_send - now
  if wait < -1 then
    late = late + 1
  end
  return wait > 0 and math.floor(wait + 0.5) or 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests_)
  local sent_total, available, bad, late_total = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    sent_total = sent_total + thread:get("sent")
    available = available + thread:get("available")
    bad = bad + thread:get("non_2xx")
    late_total = late_total + thread:get("late")
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "sent": %d, "unique_available": %d, "late": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout + summary.errors.status, bad, sent_total, available, late_total))
end
