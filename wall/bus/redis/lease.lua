-- Take or renew a lease. KEYS: lease key (its value: the holder), fence key (the current token).
-- ARGV: owner, ttl in ms. Returns the holder's fencing token, or 0 when someone else holds the lease.
--
-- A token is never handed out twice for a lease, even when Redis lost the fence key (FLUSHALL, eviction,
-- a failover to a replica that missed the last write): a new token is the greater of the last one + 1 and
-- Redis's clock in ms, so a fence that restarts from nothing still starts above every token given before
-- (tokens change hands seconds apart, not thousands of times a second).
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
local fence = redis.call('GET', KEYS[2])
local token = tonumber(fence or '0')
if not holder or not fence then
  local now = redis.call('TIME')
  token = math.max(token + 1, tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000))
  redis.call('SET', KEYS[2], string.format('%d', token))
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return token
