-- wrk script for scripts/bench-serve.sh: POST /v1/classify with raw image bodies read from a list of files (one
-- path a line), every Nth request malformed in one of several ways; counts replies by status in every thread and
-- prints one summary line. Arguments (after --): LIST MALFORMED_SHARE
local files, bad, counter, every = {}, {}, 0, 0
statuses = {}  -- a global: done() reads it from each thread
local threads = {}

function setup(thread) table.insert(threads, thread) end

function init(args)
  for path in io.lines(args[1]) do
    local f = assert(io.open(path, "rb")); files[#files + 1] = f:read("*a"); f:close()
  end
  local share = tonumber(args[2]) or 0
  every = share > 0 and math.floor(1 / share + 0.5) or 0
  bad = {
    {"image/png", "this is not an image"},                 -- not_an_image: 422
    {"image/jpeg", files[1]:sub(1, math.floor(#files[1] / 3))},       -- truncated: 422
    {"application/json", "{\"image_base64\": "},           -- malformed JSON: 400
    {"application/json", "{\"image_base64\": \"***\"}"},   -- not base64: 400
    {"text/plain", "hello"},                               -- wrong content type: 415
    {"multipart/form-data; boundary=X", "--X\r\nbroken"},  -- malformed multipart: 400
  }
end

function request()
  counter = counter + 1
  if every > 0 and counter % every == 0 then
    local b = bad[math.floor(counter / every) % #bad + 1]
    return wrk.format("POST", "/v1/classify", {["Content-Type"] = b[1]}, b[2])
  end
  return wrk.format("POST", "/v1/classify", {["Content-Type"] = "image/jpeg"}, files[counter % #files + 1])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total, keys = {}, {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + n end
  end
  for status in pairs(total) do keys[#keys + 1] = status end
  table.sort(keys)
  local parts, fivexx = {}, 0
  for _, status in ipairs(keys) do
    parts[#parts + 1] = status .. "=" .. total[status]
    if status >= 500 then fivexx = fivexx + total[status] end
  end
  local e = summary.errors
  io.write(string.format("requests %d, %.1f requests/s, p50 %.2f ms, p99 %.2f ms, 5xx %d, socket errors %d, statuses %s\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, fivexx, e.connect + e.read + e.write + e.timeout, table.concat(parts, " ")))
  -- The same numbers as `name value` lines, for scripts/bench-lib.sh's `value NAME`.
  io.write(string.format("requests_per_second %.1f\np50_ms %.3f\np99_ms %.3f\nerrors_5xx %d\nsocket_errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000, fivexx,
    e.connect + e.read + e.write + e.timeout))
end
