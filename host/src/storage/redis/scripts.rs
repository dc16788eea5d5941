//! The Lua scripts of the Redis store: each one atomic on the server.

/// Apply a batch's KV writes and positions. `KEYS`: the plugin's values,
/// its key index, the usage hash, the positions hash, the expiry index.
/// `ARGV`: the plugin, the number of writes, then per write its key, `s` or
/// `d`, the value and its expiry (ms since the epoch, or empty), then the
/// number of positions and each one's field and offset.
pub(super) const APPLY: &str = r"
local delta = 0
local i = 3
for w = 1, tonumber(ARGV[2]) do
  local key, op, value, expires = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  i = i + 4
  local member = ARGV[1] .. '\n' .. key
  local old = redis.call('HGET', KEYS[1], key)
  if old then delta = delta - #key - #old end
  if op == 's' then
    redis.call('HSET', KEYS[1], key, value)
    redis.call('ZADD', KEYS[2], 0, key)
    delta = delta + #key + #value
  else
    redis.call('HDEL', KEYS[1], key)
    redis.call('ZREM', KEYS[2], key)
  end
  if op == 's' and expires ~= '' then
    redis.call('ZADD', KEYS[5], expires, member)
  else
    redis.call('ZREM', KEYS[5], member)
  end
end
if delta ~= 0 then redis.call('HINCRBY', KEYS[3], ARGV[1], delta) end
local positions = tonumber(ARGV[i])
i = i + 1
for p = 1, positions do
  redis.call('HSET', KEYS[4], ARGV[i], ARGV[i + 1])
  i = i + 2
end
return delta
";

/// A value unless expired. `KEYS`: the plugin's values, the expiry index.
/// `ARGV`: the key, its expiry member, the time now (ms).
pub(super) const GET_LIVE: &str = r"
local at = redis.call('ZSCORE', KEYS[2], ARGV[2])
if at and tonumber(at) <= tonumber(ARGV[3]) then return false end
return redis.call('HGET', KEYS[1], ARGV[1])
";

/// Several values, each as `GET_LIVE` reads it. `KEYS`: the values' hash,
/// the expiry index. `ARGV`: the time now (ms), then each key followed by
/// its expiry member.
pub(super) const GET_MANY_LIVE: &str = r"
local out, now = {}, tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  local at = redis.call('ZSCORE', KEYS[2], ARGV[i + 1])
  if at and tonumber(at) <= now then
    out[#out + 1] = false
  else
    out[#out + 1] = redis.call('HGET', KEYS[1], ARGV[i])
  end
end
return out
";

/// Keys in a lexicographic range, expired ones left out. `KEYS`: the key
/// index, the expiry index. `ARGV`: the range's bounds, the most keys, the
/// plugin, the time now (ms).
pub(super) const LIST_LIVE: &str = r"
local out, offset, limit = {}, 0, tonumber(ARGV[3])
while #out < limit do
  local keys = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX', 'LIMIT', offset, limit)
  if #keys == 0 then break end
  for _, k in ipairs(keys) do
    local at = redis.call('ZSCORE', KEYS[2], ARGV[4] .. '\n' .. k)
    if #out < limit and (not at or tonumber(at) > tonumber(ARGV[5])) then
      out[#out + 1] = k
    end
  end
  offset = offset + #keys
end
return out
";

/// Remove expired values. `KEYS`: the expiry index, the usage hash.
/// `ARGV`: the time now (ms), the most to remove, the key prefix.
pub(super) const EXPIRE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, member in ipairs(due) do
  local cut = string.find(member, '\n', 1, true)
  local ns, key = string.sub(member, 1, cut - 1), string.sub(member, cut + 1)
  local values = ARGV[3] .. ':kv:' .. ns
  local old = redis.call('HGET', values, key)
  if old then
    redis.call('HDEL', values, key)
    redis.call('HINCRBY', KEYS[2], ns, -(#key + #old))
  end
  redis.call('ZREM', ARGV[3] .. ':keys:' .. ns, key)
  redis.call('ZREM', KEYS[1], member)
end
return #due
";

/// Claim ids: `KEYS` are the ids' keys, `ARGV[1]` the claim's time to live
/// (ms). Per key: `0` when claimed now, else its value (`""` while another
/// claimant writes it, the position once written).
pub(super) const CLAIM: &str = r"
local out = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v then
    out[i] = v
  else
    redis.call('SET', key, '', 'PX', ARGV[1])
    out[i] = 0
  end
end
return out
";

/// Drop the claims among `KEYS` that are still unsettled.
pub(super) const RELEASE: &str = r"
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == '' then redis.call('DEL', key) end
end
return 0
";
