-- Take or renew a lease. KEYS: lease key (its value: the holder), fence key (the current token).
-- ARGV: owner, ttl in ms. Returns the holder's fencing token, or 0 when someone else holds the lease.
--
-- A token is never handed out twice for a lease, even when Redis lost the fence key (FLUSHALL, eviction,
-- a failover to a replica that missed the last write): a new token is the greater of the last one + 1 and
-- Redis's clock in microseconds, so a fence that restarts from nothing still starts above every token
-- handed out before (leases change hands seconds apart, not a million times a second). Microseconds since
-- 1970 stay below 2^53, where Lua's numbers are exact, until the year 2255.
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
local fence = redis.call('GET', KEYS[2])
local token = tonumber(fence or '0')
if not holder or not fence then
  local now = redis.call('TIME')
  token = math.max(token + 1, tonumber(now[1]) * 1000000 + tonumber(now[2]))
  redis.call('SET', KEYS[2], string.format('%d', token))
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return token
