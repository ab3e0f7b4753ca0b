-- Append an event to a wall's stream and announce it, in one step: live order is stream order.
-- KEYS: stream, epoch key. ARGV: maxlen, body, epoch candidate, channel. Returns the event's id.
local epoch = redis.call('SET', KEYS[2], ARGV[3], 'NX', 'GET') or ARGV[3]
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'b', ARGV[2])
redis.call('PUBLISH', ARGV[4], id .. '\n' .. epoch .. '\n' .. ARGV[2])
return id
