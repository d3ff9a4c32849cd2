// The Lua scripts of the shared state store (Redis or Valkey). Each check-and-take is one script,
// so it is atomic on the server whatever the number of gateway instances: no check-then-write.
// Numbers in and out are integers (Redis turns a Lua number reply into an integer). Times that
// decide a lease come from the server's own clock (TIME), so instances need not agree on theirs;
// windows and budget periods are the caller's (they name the keys).

/**
 * Reserves `amount` in a window counter. KEYS: the current window, the previous one. ARGV:
 * amount, limit, window ms, window start, now, sliding (1) or fixed (0), expiry ms. Answers
 * { refused (0|1), current count, previous count } — the counts after the reservation.
 */
export const RATE_RESERVE = `
local amount = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local windowMs = tonumber(ARGV[3])
local windowStart = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = 0
local used = current
if ARGV[6] == '1' then
  previous = tonumber(redis.call('GET', KEYS[2]) or '0')
  if previous > 0 then used = current + previous * ((windowMs - (now - windowStart)) / windowMs) end
end
if used + amount > limit then return {1, current, previous} end
current = redis.call('INCRBY', KEYS[1], amount)
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return {0, current, previous}
`;

/**
 * Adds `delta` (may be negative; the count never goes below 0) to a window counter. KEYS: the
 * window. ARGV: delta, expiry ms, create (1: also when the key is gone — an outage's counts;
 * 0: a settle, which leaves a window that expired alone). Answers the count, -1 when left alone.
 */
export const RATE_ADD = `
if ARGV[3] ~= '1' and redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count < 0 then
  redis.call('SET', KEYS[1], 0)
  count = 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return count
`;

/** The server's clock in ms, inside a script. */
const SERVER_NOW = `
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * Takes a slot (a request in flight) as a lease. KEYS: the slot set (holder → lease expiry).
 * ARGV: limit, holder, lease ms. Expired leases (an instance that died) are dropped first.
 * Answers { refused (0|1), slots held }.
 */
export const SLOT_TAKE = `${SERVER_NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', nowMs)
local held = redis.call('ZCARD', KEYS[1])
if held + 1 > tonumber(ARGV[1]) then return {1, held} end
redis.call('ZADD', KEYS[1], nowMs + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {0, held + 1}
`;

/**
 * Extends the leases of holders still in flight. KEYS: a lease set. ARGV: lease ms, holders…
 * A lease already gone (expired and dropped) is not brought back.
 */
export const LEASE_RENEW = `${SERVER_NOW}
local expires = nowMs + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', expires, ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0
`;

/** Drops a budget's expired holds. KEYS: totals, hold expiries, hold amounts. */
const DROP_EXPIRED_HOLDS = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', nowMs)
for _, holder in ipairs(expired) do
  local amount = tonumber(redis.call('HGET', KEYS[3], holder) or '0')
  redis.call('HINCRBY', KEYS[1], 'held', -amount)
  redis.call('HDEL', KEYS[3], holder)
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', nowMs) end
`;

/**
 * Holds `amount` of a budget's period if settled spend + holds + amount stays within the limit.
 * KEYS: totals (spent, held), hold expiries (holder → lease expiry), hold amounts (holder →
 * amount). ARGV: amount, limit, holder, lease ms, expiry ms of the period's keys. Answers
 * { granted (0|1), spent, held }.
 */
export const BUDGET_HOLD = `${SERVER_NOW}${DROP_EXPIRED_HOLDS}
local amount = tonumber(ARGV[1])
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local held = tonumber(redis.call('HGET', KEYS[1], 'held') or '0')
if held < 0 then held = 0 end
if spent + held + amount > tonumber(ARGV[2]) then return {0, spent, held} end
held = redis.call('HINCRBY', KEYS[1], 'held', amount)
redis.call('HINCRBY', KEYS[3], ARGV[3], amount)
redis.call('ZADD', KEYS[2], nowMs + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return {1, spent, held}
`;

/**
 * Ends a hold (the amount it holds on the server, whatever the caller thinks) and adds the actual
 * spend. KEYS: as BUDGET_HOLD. ARGV: holder, actual, expiry ms. Answers { spent, held }.
 */
export const BUDGET_SETTLE = `
local amount = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
if amount ~= 0 then
  redis.call('HINCRBY', KEYS[1], 'held', -amount)
  redis.call('HDEL', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
end
local actual = tonumber(ARGV[2])
if actual ~= 0 then redis.call('HINCRBY', KEYS[1], 'spent', actual) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local held = tonumber(redis.call('HGET', KEYS[1], 'held') or '0')
if held < 0 then held = 0 end
return {spent, held}
`;

/**
 * The spend on record (the ledger): the period's spend becomes at least `amount`. KEYS: totals.
 * ARGV: amount, expiry ms. Answers the spend.
 */
export const BUDGET_RECORD = `
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local amount = tonumber(ARGV[1])
if amount > spent then
  redis.call('HSET', KEYS[1], 'spent', amount)
  spent = amount
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return spent
`;

/** Adds spend counted in process during an outage. KEYS: totals. ARGV: amount, expiry ms. */
export const BUDGET_ADD = `
local spent = redis.call('HINCRBY', KEYS[1], 'spent', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return spent
`;

/**
 * A target's health as one instance last published it (redis-health.ts), kept for instances that
 * (re)connect, and the message to the others. KEYS: the health hash. ARGV: field (the target),
 * the event, ms it stays out (0: back in rotation — the field goes), the channel, the hash's own
 * expiry ms. The field's value is `<expiry on the server's clock> <event>`.
 */
export const HEALTH_PUT = `
local ms = tonumber(ARGV[3])
if ms > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[1], ARGV[1], (now + ms) .. ' ' .. ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', ARGV[4], ARGV[2])
return 1
`;

/**
 * Every target still out of rotation, fleet-wide, as { ms left, event, … }; lapsed fields go.
 * KEYS: the health hash.
 */
export const HEALTH_READ = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #all, 2 do
  local value = all[i + 1]
  local space = string.find(value, ' ', 1, true)
  local expires = space and tonumber(string.sub(value, 1, space - 1)) or 0
  if expires <= now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    out[#out + 1] = expires - now
    out[#out + 1] = string.sub(value, space + 1)
  end
end
return out
`;

/**
 * Claims a half-open probe for the fleet: the claim is taken if free, or renewed if this instance
 * holds it already. KEYS: the claim. ARGV: instance id, hold ms. Answers 1 (this instance probes)
 * or 0 (another does).
 */
export const PROBE_CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** Gives a probe claim back, if this instance holds it. KEYS: the claim. ARGV: instance id. */
export const PROBE_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * A pin that only goes up (an auto alias's tier of a session): the higher of the held target and
 * ARGV[1], with key ARGV[2], for ARGV[3] ms. KEYS: the pin. Answers the target kept.
 */
export const PIN_RAISE = `
local target = tonumber(ARGV[1])
local value = redis.call('GET', KEYS[1])
if value then
  local held = tonumber(string.match(value, '^(%d+) '))
  if held and held > target then target = held end
end
redis.call('SET', KEYS[1], target .. ' ' .. ARGV[2], 'PX', ARGV[3])
return target
`;

/** A session's pin and the ms it has left. KEYS: the pin. Answers { value, ms left }, or nil. */
export const PIN_GET = `
local value = redis.call('GET', KEYS[1])
if not value then return nil end
return {value, redis.call('PTTL', KEYS[1])}
`;
