-- bench/ping_intake.lua - wrk script for bench/ping_intake.sh: POSTs
-- /ping/<check> round robin over PING_CHECKS heartbeat checks named
-- PING_PREFIX000, PING_PREFIX001, ..., each with a body of PING_BODY_BYTES
-- bytes (0: an empty body, still with Content-Length: 0, which is what
-- `curl -X POST` sends and what nginx, the peer, wants on a POST).
-- PING_DELAY_MS > 0 makes each connection wait that long before each
-- request (wrk's delay() hook), so C connections offer at most
-- C * 1000 / PING_DELAY_MS pings/s: the paced run. 0: as fast as answered.
--
-- Every request is formatted once in init(): wrk.format per request would
-- spend the client's CPU, which shares the machine with the server measured.
-- Each wrk thread starts at another check (setup() numbers the threads), so
-- the checks are hit evenly whatever the thread count.

local checks = tonumber(os.getenv("PING_CHECKS") or "100")
local prefix = os.getenv("PING_PREFIX") or "hb-"
local body_bytes = tonumber(os.getenv("PING_BODY_BYTES") or "0")
local delay_ms = tonumber(os.getenv("PING_DELAY_MS") or "0")

local thread_no = 0
function setup(thread)
   thread:set("thread_no", thread_no)
   thread_no = thread_no + 1
end

local requests = {}
local next_check = 0

function init(args)
   -- A job's log tail: lines of text rather than one repeated byte.
   local line = "2026-11-29T21:00:03Z backup: wrote chunk to /backups/etcd.db ok\n"
   local body = string.rep(line, math.floor(body_bytes / #line) + 1):sub(1, body_bytes)
   local headers = { ["Content-Type"] = "text/plain" }
   for i = 0, checks - 1 do
      requests[i] = wrk.format("POST", string.format("/ping/%s%03d", prefix, i), headers, body)
   end
   next_check = ((tonumber(thread_no) or 0) * 37) % checks
end

function request()
   local r = requests[next_check]
   next_check = (next_check + 1) % checks
   return r
end

if delay_ms > 0 then
   function delay()
      return delay_ms
   end
end
