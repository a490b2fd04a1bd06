-- POST one new record per request (unique code per thread and request).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
-- Each wrk thread has its own Lua state with the same default random seed: seed from this state's
-- address so that threads do not send the same codes (a unique field) and get 400s.
math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000000)
local salt = math.random(1, 1000000000)
request = function()
  counter = counter + 1
  local body = string.format('{"code":"W%d-%d","title":"bench item %d","qty":%d,"status":"open"}', salt, counter, counter, counter % 1000)
  return wrk.format(nil, nil, nil, body)
end
