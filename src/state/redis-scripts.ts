// The Lua scripts of the shared state store (Redis or Valkey). Each check-and-take is one script,
// so it is atomic on the server whatever the number of gateway instances: no check-then-write.
// Numbers in and out are integers (Redis turns a Lua number reply into an integer). Times that
// decide a lease come from the server's own clock (TIME), so instances need not agree on theirs;
// windows and budget periods are the caller's (they name the keys).

/** The server's clock in ms, inside a script. */
const SERVER_NOW = `
local time = redis.call('TIME')
local nowMs = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * Takes a request's limits at once, or none of them: window counters (rpm, tpm), slots
 * (max_concurrent) and budget holds, checked in the caller's order; the first that does not fit
 * ends the script with nothing taken. One script per request's admission, so one round trip
 * whatever the number of limits, and exact across instances (no check-then-write).
 *
 * KEYS: each limit's keys in order — a window: its current and previous window; a slot set
 * (holder → lease expiry on the server's clock); a budget: its period's totals (spent, held),
 * hold expiries and hold amounts. ARGV: the holder, the lease ms, the caller's now (windows are
 * the caller's), then each limit:
 * - `w` amount limit window-ms window-start sliding(1|0) expiry-ms
 * - `s` limit
 * - `b` amount limit expiry-ms partial(1: hold what is left when the amount does not fit)
 *
 * Answers { taken (1: all, 0: none), then three integers per limit checked, up to the first
 * refused }: a window { refused (0|1), current count, previous count }; a slot { refused, slots
 * held }, 0; a budget { amount held (0: refused), spent, held } — counts after the taking when
 * taken, as found otherwise. Expired slots and holds (an instance that died) are dropped first.
 */
export const LIMITS_TAKE = `${SERVER_NOW}
local holder = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local out = {0}
local k = 1
local a = 4
while a <= #ARGV do
  local kind = ARGV[a]
  local refused
  if kind == 'w' then
    local amount = tonumber(ARGV[a + 1])
    local windowMs = tonumber(ARGV[a + 3])
    local current = tonumber(redis.call('GET', KEYS[k]) or '0')
    local previous = 0
    local used = current
    if ARGV[a + 5] == '1' then
      previous = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
      if previous > 0 then used = current + previous * ((windowMs - (now - tonumber(ARGV[a + 4]))) / windowMs) end
    end
    refused = used + amount > tonumber(ARGV[a + 2])
    out[#out + 1] = refused and 1 or 0
    out[#out + 1] = current
    out[#out + 1] = previous
    k = k + 2
    a = a + 7
  elseif kind == 's' then
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', nowMs)
    local held = redis.call('ZCARD', KEYS[k])
    refused = held + 1 > tonumber(ARGV[a + 1])
    out[#out + 1] = refused and 1 or 0
    out[#out + 1] = held
    out[#out + 1] = 0
    k = k + 1
    a = a + 2
  else
    local expired = redis.call('ZRANGEBYSCORE', KEYS[k + 1], '-inf', nowMs)
    for _, gone in ipairs(expired) do
      redis.call('HINCRBY', KEYS[k], 'held', -tonumber(redis.call('HGET', KEYS[k + 2], gone) or '0'))
      redis.call('HDEL', KEYS[k + 2], gone)
    end
    if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[k + 1], '-inf', nowMs) end
    local spent = tonumber(redis.call('HGET', KEYS[k], 'spent') or '0')
    local held = tonumber(redis.call('HGET', KEYS[k], 'held') or '0')
    if held < 0 then held = 0 end
    local left = tonumber(ARGV[a + 2]) - spent - held
    local take = tonumber(ARGV[a + 1])
    if take > left then
      if ARGV[a + 4] == '1' and left > 0 then take = left else take = 0 end
    end
    refused = take <= 0
    out[#out + 1] = take
    out[#out + 1] = spent
    out[#out + 1] = held
    k = k + 3
    a = a + 5
  end
  if refused then return out end
end
k = 1
a = 4
local i = 2
while a <= #ARGV do
  local kind = ARGV[a]
  if kind == 'w' then
    out[i + 1] = redis.call('INCRBY', KEYS[k], ARGV[a + 1])
    redis.call('PEXPIRE', KEYS[k], ARGV[a + 6])
    k = k + 2
    a = a + 7
  elseif kind == 's' then
    redis.call('ZADD', KEYS[k], nowMs + leaseMs, holder)
    redis.call('PEXPIRE', KEYS[k], leaseMs)
    out[i + 1] = out[i + 1] + 1
    k = k + 1
    a = a + 2
  else
    out[i + 2] = redis.call('HINCRBY', KEYS[k], 'held', out[i])
    redis.call('HINCRBY', KEYS[k + 2], holder, out[i])
    redis.call('ZADD', KEYS[k + 1], nowMs + leaseMs, holder)
    redis.call('PEXPIRE', KEYS[k], ARGV[a + 3])
    redis.call('PEXPIRE', KEYS[k + 1], ARGV[a + 3])
    redis.call('PEXPIRE', KEYS[k + 2], ARGV[a + 3])
    k = k + 3
    a = a + 5
  end
  i = i + 3
end
out[1] = 1
return out
`;

/**
 * Settles what a request took, in one script: slots ended, window counts corrected, budget holds
 * ended with the actual spend added. KEYS: each settle's keys in order (a slot set; a window; a
 * budget's totals, hold expiries and hold amounts). ARGV: the holder, then each settle:
 * - `z`: the holder's slot ends
 * - `a` delta expiry-ms: added to the window (never below 0); a window that expired is left alone
 * - `b` actual expiry-ms: the holder's hold ends (the amount it holds on the server, whatever the
 *   caller thinks) and `actual` is added to the spend
 * Answers { spent, held } per budget, in order.
 */
export const LIMITS_SETTLE = `
local holder = ARGV[1]
local out = {}
local k = 1
local a = 2
while a <= #ARGV do
  local kind = ARGV[a]
  if kind == 'z' then
    redis.call('ZREM', KEYS[k], holder)
    k = k + 1
    a = a + 1
  elseif kind == 'a' then
    if redis.call('EXISTS', KEYS[k]) == 1 then
      if redis.call('INCRBY', KEYS[k], ARGV[a + 1]) < 0 then redis.call('SET', KEYS[k], 0) end
      redis.call('PEXPIRE', KEYS[k], ARGV[a + 2])
    end
    k = k + 1
    a = a + 3
  else
    local amount = tonumber(redis.call('HGET', KEYS[k + 2], holder) or '0')
    if amount ~= 0 then
      redis.call('HINCRBY', KEYS[k], 'held', -amount)
      redis.call('HDEL', KEYS[k + 2], holder)
      redis.call('ZREM', KEYS[k + 1], holder)
    end
    local actual = tonumber(ARGV[a + 1])
    if actual ~= 0 then redis.call('HINCRBY', KEYS[k], 'spent', actual) end
    redis.call('PEXPIRE', KEYS[k], ARGV[a + 2])
    local held = tonumber(redis.call('HGET', KEYS[k], 'held') or '0')
    if held < 0 then held = 0 end
    out[#out + 1] = tonumber(redis.call('HGET', KEYS[k], 'spent') or '0')
    out[#out + 1] = held
    k = k + 3
    a = a + 3
  end
end
return out
`;

/**
 * Adds counts taken in process during an outage to a window counter (the count never goes below
 * 0). KEYS: the window. ARGV: delta, expiry ms. Answers the count.
 */
export const RATE_ADD = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count < 0 then
  redis.call('SET', KEYS[1], 0)
  count = 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return count
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

/**
 * A session's pin, kept for another session TTL (a read is a use: the request that read it goes
 * to that target, so its instance need not write it again). KEYS: the pin. ARGV: the TTL ms.
 * Answers the value, or nil.
 */
export const PIN_GET = `
local value = redis.call('GET', KEYS[1])
if value then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return value
`;
