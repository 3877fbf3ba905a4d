// Lua scripts run by Redis atomically: nothing else touches the data between their
// reads and their writes, which is what makes compare-and-swap a single step. Every key a
// script touches belongs to one scope and so carries the scope's hash tag: one slot, one
// shard in a Cluster.

/**
 * Compare-and-swap of several keys, the ops taken in order.
 * KEYS[1]: the scope's key index (sorted set); KEYS[2..n+1]: the ops' value keys;
 * further KEYS: the logs the ops append to; the last KEYS: where this call's answer is kept.
 * ARGV[1]: 'all' | 'each'; ARGV[2]: n; then per op: expect-present flag ('0'/'1'),
 * expected value, value-present flag ('0' deletes), value, plain key (the index member),
 * index into KEYS of the op's log (0: none), log entry, the number of keys and the number
 * of prefixes that must be absent, then those keys and prefixes (presence is read from the
 * index, which the script keeps in step with the values).
 * Each op is checked against the data as the ops before it left it and applied at once;
 * in mode 'all' a conflict undoes the applied ops before the script returns (nothing else
 * runs meanwhile, so no one sees them). Logs are appended last, only when the ops stay.
 * Returns the 0-based indexes of the ops whose conditions failed.
 *
 * The answer of a call that changed something is kept for ANSWER_KEPT_SECONDS under the call's
 * own key (a random token): a client that lost its connection after the script ran sends the
 * same script again (ioredis resends what was in flight), and must get the answer of the run
 * that took effect, not a conflict with its own writes. A call that changed nothing keeps no
 * answer (no write, nothing replicated): run again, it answers for the data as it is then.
 */
const ANSWER_KEPT_SECONDS = 600;
export const CAS_SCRIPT = `
local answerKey = KEYS[#KEYS]
local earlier = redis.call('GET', answerKey)
if earlier then return cjson.decode(earlier) end
local function answer(result)
  redis.call('SET', answerKey, cjson.encode(result), 'EX', ${ANSWER_KEPT_SECONDS})
  return result
end
local mode = ARGV[1]
local n = tonumber(ARGV[2])
local index = KEYS[1]
local conflicts = {}
local applied = {}
local logs = {}
local function present(member)
  return redis.call('ZSCORE', index, member) ~= false
end
local function anyWithPrefix(prefix)
  if prefix == '' then return redis.call('ZCARD', index) > 0 end
  return #redis.call('ZRANGEBYLEX', index, '[' .. prefix, '(' .. prefix .. string.char(127), 'LIMIT', 0, 1) > 0
end
local function put(valueKey, member, value)
  if value == false then
    redis.call('DEL', valueKey)
    redis.call('ZREM', index, member)
  else
    redis.call('SET', valueKey, value)
    redis.call('ZADD', index, 0, member)
  end
end
local at = 3
for i = 1, n do
  local member = ARGV[at + 4]
  local absentKeys = tonumber(ARGV[at + 7])
  local absentPrefixes = tonumber(ARGV[at + 8])
  local guards = at + 9
  local current = redis.call('GET', KEYS[1 + i])
  local holds
  if ARGV[at] == '0' then holds = (current == false) else holds = (current == ARGV[at + 1]) end
  for g = guards, guards + absentKeys - 1 do
    if holds and present(ARGV[g]) then holds = false end
  end
  for g = guards + absentKeys, guards + absentKeys + absentPrefixes - 1 do
    if holds and anyWithPrefix(ARGV[g]) then holds = false end
  end
  if holds then
    applied[#applied + 1] = { KEYS[1 + i], member, current }
    if ARGV[at + 2] == '0' then put(KEYS[1 + i], member, false) else put(KEYS[1 + i], member, ARGV[at + 3]) end
    local log = tonumber(ARGV[at + 5])
    if log > 0 then logs[#logs + 1] = { KEYS[log], ARGV[at + 6] } end
  else
    conflicts[#conflicts + 1] = i - 1
  end
  at = guards + absentKeys + absentPrefixes
end
if mode == 'all' and #conflicts > 0 then
  for u = #applied, 1, -1 do put(applied[u][1], applied[u][2], applied[u][3]) end
  return conflicts
end
for _, log in ipairs(logs) do redis.call('RPUSH', log[1], log[2]) end
if #applied == 0 then return conflicts end
return answer(conflicts)
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
