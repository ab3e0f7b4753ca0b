-- Live-only data: kept as the latest, and sent with an empty id (no place in the stream).
-- KEYS: latest key. ARGV: body, channel.
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], '\n\n' .. ARGV[1])
