-- A curation writer's commit for one inbox entry, all of it or nothing (wall/bus/base.py: Commit).
-- KEYS: lease, fence, events, epoch, position, inbox, shown, bucket, total, recent hash, recent index,
-- latest control, known authors, their last approval.
-- ARGV[1]: the commit, msgpack of wall/bus/redis/inbox.py: CommitArgs (every field by its name).
-- A post's record (a hash: counter -> amount, '' -> minute) and a retracted post's bucket are named from
-- the prefixes inside the script, since which bucket only the record says: one Redis, not a cluster.
local c = cmsgpack.unpack(ARGV[1])

-- Fenced unless this writer holds the lease AND its token is the lease's current one. The holder alone
-- is not enough (a stalled writer that took the lease again since has a newer token to use), nor the
-- token alone (a fence that Redis lost could hand an equal one to another writer).
if redis.call('GET', KEYS[1]) ~= c.owner then
  return redis.error_reply('FENCED the writer lease is held by another process, or by none')
end
if tonumber(redis.call('GET', KEYS[2]) or '0') ~= c.token then
  return redis.error_reply("FENCED the token is no longer the lease's (it lapsed and was taken again)")
end

local epoch = redis.call('SET', KEYS[4], c.epoch, 'NX', 'GET') or c.epoch
local now = math.floor(c.now)

local ids = {}
local last_body = nil
for _, body in ipairs(c.events) do
  local id = redis.call('XADD', KEYS[3], 'MAXLEN', '~', c.maxlen, '*', 'b', body)
  redis.call('PUBLISH', c.channel, id .. '\n' .. epoch .. '\n' .. body)
  ids[#ids + 1] = id
  last_body = body
end
for _, pid in ipairs(c.shown) do redis.call('ZADD', KEYS[7], now, pid) end
for _, pid in ipairs(c.unshown) do redis.call('ZREM', KEYS[7], pid) end

-- Retracted posts take back what they added, from their own minute's bucket (if still kept) and the total.
-- Before the counted ones: a post can be both.
for _, pid in ipairs(c.uncounted) do
  local record = c.record_prefix .. pid
  local rec = redis.call('HGETALL', record)
  if #rec > 0 then
    local minute = ''
    for k = 1, #rec, 2 do if rec[k] == '' then minute = rec[k + 1] end end
    local bucket = c.bucket_prefix .. minute
    local kept = redis.call('EXISTS', bucket) == 1
    for k = 1, #rec, 2 do
      local name, by = rec[k], tonumber(rec[k + 1])
      if name ~= '' then
        if name == 'posts' then redis.call('INCRBY', KEYS[9], -by) end
        if kept and redis.call('HINCRBY', bucket, name, -by) <= 0 then redis.call('HDEL', bucket, name) end
      end
    end
    redis.call('DEL', record)
  end
end
for _, counted in ipairs(c.counts) do
  local key, record = c.record_prefix .. counted[1], {}
  for _, counter in ipairs(counted[2]) do
    local name, by = counter[1], counter[2]
    redis.call('HINCRBY', KEYS[8], name, by)
    if name == 'posts' then redis.call('INCRBY', KEYS[9], by) end
    record[#record + 1] = name
    record[#record + 1] = by
  end
  redis.call('DEL', key)
  redis.call('HSET', key, '', string.sub(KEYS[8], #c.bucket_prefix + 1), unpack(record))
  redis.call('EXPIRE', key, c.bucket_ttl)
end
if #c.counts > 0 then redis.call('EXPIRE', KEYS[8], c.bucket_ttl) end

for j, recent in ipairs(c.recent) do
  redis.call('HSET', KEYS[10], recent[1], recent[2])
  -- NX: a post keeps its place (first arrival) when it is decided or edited again
  redis.call('ZADD', KEYS[11], 'NX', c.now + j / 1e6, recent[1])
end
if #c.recent > 0 then
  local over = redis.call('ZCARD', KEYS[11]) - c.recent_kept
  if over > 0 then
    for _, old in ipairs(redis.call('ZRANGE', KEYS[11], 0, over - 1)) do redis.call('HDEL', KEYS[10], old) end
    redis.call('ZREMRANGEBYRANK', KEYS[11], 0, over - 1)
  end
end
for _, author in ipairs(c.authors) do
  redis.call('SADD', KEYS[13], author)
  redis.call('ZADD', KEYS[14], c.now, author)
end
if c.control and last_body then
  redis.call('SET', KEYS[12], '{"id":"' .. ids[#ids] .. '",' .. string.sub(last_body, 2))
end
redis.call('SET', KEYS[5], c.inbox_id)
redis.call('XTRIM', KEYS[6], 'MINID', '~', c.inbox_id)
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - 604800)
for _, message in ipairs(c.queue) do redis.call('PUBLISH', c.queue_channel, message) end
return ids
