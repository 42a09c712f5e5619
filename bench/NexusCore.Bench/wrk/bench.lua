-- The harness's wrk script (bench/NexusCore.Bench). Everything comes from the environment:
--   BENCH_API_KEY    sent as X-Api-Key (read here so the key never appears on a command line)
--   BENCH_REQUESTS   a file of requests, one per line: METHOD<TAB>PATH<TAB>BODY (body may be empty);
--                    each thread takes them in turn, starting at its own offset
--   BENCH_ID_PATH    otherwise: GET BENCH_ID_PATH .. id, with ids from 1..BENCH_ID_MAX drawn
--   BENCH_ID_MAX     uniformly (BENCH_ZIPF_S = 0) or Zipf-distributed with exponent BENCH_ZIPF_S,
--   BENCH_ZIPF_S     by the same rejection-inversion sampler and permutation as Load/Zipf.cs
--   BENCH_THINK_MS   if set and above 0, each connection waits a random time (exponential, this mean)
--                    before each request: a steady offered load rather than back-to-back requests
-- done() prints one line: BENCH {json}, latencies in microseconds.

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local requests = {}
local next_request = 0
local id_path = nil
local id_max = 0
local zipf = nil
local headers = {}

-- Zipf by rejection-inversion (Hoermann & Derflinger), as Apache Commons RNG.
local function helper1(x)
  if math.abs(x) > 1e-8 then return math.log(1 + x) / x end
  return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x))
end

local function helper2(x)
  if math.abs(x) > 1e-8 then return (math.exp(x) - 1) / x end
  return 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x))
end

local function new_zipf(n, s)
  local z = { n = n, s = s }
  function z.h(x) return math.exp(-s * math.log(x)) end
  function z.hi(x) local lx = math.log(x); return helper2((1 - s) * lx) * lx end
  function z.hinv(x)
    local t = x * (1 - s)
    if t < -1 then t = -1 end
    return math.exp(helper1(t) * x)
  end
  z.hx1 = z.hi(1.5) - 1
  z.hn = z.hi(n + 0.5)
  z.threshold = 2 - z.hinv(z.hi(2.5) - z.h(2))
  function z.rank()
    while true do
      local u = z.hn + math.random() * (z.hx1 - z.hn)
      local x = z.hinv(u)
      local k = math.floor(x + 0.5)
      if k < 1 then k = 1 elseif k > n then k = n end
      if k - x <= z.threshold or u >= z.hi(k + 0.5) - z.h(k) then return k end
    end
  end
  return z
end

local scatter = 2147483647

function init(args)
  local index = thread_index or 0
  math.randomseed(os.time() * 1000 + index * 7919)

  local key = os.getenv("BENCH_API_KEY")
  if key and #key > 0 then headers["X-Api-Key"] = key end

  local file = os.getenv("BENCH_REQUESTS")
  if file and #file > 0 then
    for line in io.lines(file) do
      local method, path, body = line:match("^([^\t]*)\t([^\t]*)\t?(.*)$")
      local h = copy(headers)
      if body ~= nil and #body > 0 then
        h["Content-Type"] = "application/json"
      else
        body = nil
      end
      table.insert(requests, wrk.format(method, path, h, body))
    end
    next_request = index % #requests
  else
    id_path = os.getenv("BENCH_ID_PATH")
    id_max = tonumber(os.getenv("BENCH_ID_MAX"))
    local s = tonumber(os.getenv("BENCH_ZIPF_S") or "0")
    if s and s > 0 then zipf = new_zipf(id_max, s) end
  end
end

-- wrk schedules every request through its timer once delay() exists, so it is only defined when asked for.
local think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "0") or 0
if think_ms > 0 then
  function delay()
    return math.floor(-math.log(1 - math.random()) * think_ms + 0.5)
  end
end

function request()
  if id_path then
    local id
    if zipf then
      id = ((zipf.rank() - 1) * scatter) % id_max + 1
    else
      id = math.random(1, id_max)
    end
    return wrk.format("GET", id_path .. string.format("%d", id), headers)
  end
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"durationUs":%d,"bytes":%d,"connectErrors":%d,"readErrors":%d,"writeErrors":%d,' ..
    '"statusErrors":%d,"timeouts":%d,"p50":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
