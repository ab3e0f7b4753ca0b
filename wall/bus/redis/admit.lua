-- The dedupe decision and the write it guards in one step: a sender is never told "duplicate" for a post
-- that was not written.
-- KEYS: seen key, inbox. ARGV: digest, ttl s, body, inbox maxlen. Returns {outcome, inbox id or ''}.
local before = redis.call('GET', KEYS[1])
if before == ARGV[1] then return {'duplicate', ''} end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'b', ARGV[3])
if before then return {'updated', id} end
return {'new', id}
