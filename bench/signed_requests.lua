-- wrk script: replays pre-signed requests from REQUESTS_FILE, one list per thread, and
-- optionally paces each connection (DELAY_MS) to offer a fixed rate. Prints one JSON line.
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
  delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
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
  return delay_ms
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non_2xx = non_2xx + 1
  end
end

function done(summary, latency, requests_)
  local sent_total, available, bad = 0, 0, 0
  for _, thread in ipairs(threads) do
    sent_total = sent_total + thread:get("sent")
    available = available + thread:get("available")
    bad = bad + thread:get("non_2xx")
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "non_2xx": %d, "sent": %d, "unique_available": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout + summary.errors.status, bad, sent_total, available))
end
