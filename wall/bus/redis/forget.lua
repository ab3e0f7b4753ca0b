-- Retention (wall/bus/base.py: Inbox.forget_before): a wall's posts, and authors, older than a cutoff.
-- KEYS: events, recent hash, recent index, known authors, their last approval, inbox, writer's position.
-- ARGV[1]: the cutoff in ms (stream ids below it go; 0: leave the stream and recent posts); ARGV[2]: in
-- seconds; ARGV[3]: how many authors to forget at most (0: none).
-- Returns {events removed, recent posts removed, authors removed, inbox entries removed}.
local events, recent, authors, inbox = 0, 0, 0, 0
if tonumber(ARGV[1]) > 0 then
  events = redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
  -- The commit trims the inbox roughly (MINID ~): committed entries linger. Those before the cutoff go,
  -- but never one the writer has not committed yet.
  local ms, seq = string.match(redis.call('GET', KEYS[7]) or '0-0', '^(%d+)-(%d+)$')
  local minid = ARGV[1] .. '-0'
  if tonumber(ms) < tonumber(ARGV[1]) then minid = ms .. '-' .. tostring(tonumber(seq) + 1) end
  inbox = redis.call('XTRIM', KEYS[6], 'MINID', minid)
  -- The index's score is the post's first arrival: a post decided again later keeps it.
  local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[2])
  for _, pid in ipairs(old) do redis.call('HDEL', KEYS[2], pid) end
  recent = redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[2])
end
local limit = tonumber(ARGV[3])
if limit > 0 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. ARGV[2], 'LIMIT', 0, limit)
  for _, author in ipairs(old) do
    redis.call('SREM', KEYS[4], author)
    redis.call('ZREM', KEYS[5], author)
  end
  authors = #old
  -- Authors known before their approvals had a time: forgotten too, as if the oldest.
  if authors < limit and redis.call('SCARD', KEYS[4]) > redis.call('ZCARD', KEYS[5]) then
    for _, author in ipairs(redis.call('SMEMBERS', KEYS[4])) do
      if authors >= limit then break end
      if not redis.call('ZSCORE', KEYS[5], author) then
        redis.call('SREM', KEYS[4], author)
        authors = authors + 1
      end
    end
  end
end
return {events, recent, authors, inbox}
