// Lua scripts run by Redis atomically: nothing else touches the data between their
// reads and their writes, which is what makes compare-and-swap a single step. Every key a
// script touches belongs to one scope and so carries the scope's hash tag: one slot, one
// shard in a Cluster.

/**
 * Compare-and-swap of several keys.
 * KEYS[1]: the scope's key index (sorted set); KEYS[2..n+1]: the ops' value keys;
 * further KEYS: the logs the ops append to.
 * ARGV[1]: 'all' | 'each'; ARGV[2]: n; then 7 per op: expect-present flag ('0'/'1'),
 * expected value, value-present flag ('0' deletes), value, plain key (the index member),
 * index into KEYS of the op's log (0: none), log entry.
 * Returns the 0-based indexes of the ops whose expectation failed.
 */
export const CAS_SCRIPT = `
local mode = ARGV[1]
local n = tonumber(ARGV[2])
local conflicts = {}
local conflicting = {}
for i = 1, n do
  local arg = 2 + (i - 1) * 7
  local current = redis.call('GET', KEYS[1 + i])
  local holds
  if ARGV[arg + 1] == '0' then holds = (current == false) else holds = (current == ARGV[arg + 2]) end
  if not holds then
    conflicts[#conflicts + 1] = i - 1
    conflicting[i] = true
  end
end
if mode == 'all' and #conflicts > 0 then return conflicts end
for i = 1, n do
  if not conflicting[i] then
    local arg = 2 + (i - 1) * 7
    if ARGV[arg + 3] == '0' then
      redis.call('DEL', KEYS[1 + i])
      redis.call('ZREM', KEYS[1], ARGV[arg + 5])
    else
      redis.call('SET', KEYS[1 + i], ARGV[arg + 4])
      redis.call('ZADD', KEYS[1], 0, ARGV[arg + 5])
    end
    local log = tonumber(ARGV[arg + 6])
    if log > 0 then redis.call('RPUSH', KEYS[log], ARGV[arg + 7]) end
  end
end
return conflicts
`;

/**
 * Entries of a scope whose key lies in a ZRANGEBYLEX range, with their values, in one
 * consistent read. KEYS[1]: the key index; ARGV[1], ARGV[2]: the lex range; ARGV[3]: the
 * prefix of the scope's value keys. The value keys are derived, not declared: they share
 * KEYS[1]'s hash tag, so they live in the same slot on the same node.
 * Returns key1, value1, key2, value2, …
 */
export const SCAN_SCRIPT = `
local keys = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
local result = {}
for _, key in ipairs(keys) do
  local value = redis.call('GET', ARGV[3] .. key)
  if value then
    result[#result + 1] = key
    result[#result + 1] = value
  end
end
return result
`;
