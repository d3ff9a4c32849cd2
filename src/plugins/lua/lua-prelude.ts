// The Lua code that turns a fresh state into a plugin's sandbox, run before the plugin's own code.
// It receives the host's C functions as one table argument, so they never appear as globals, and
// returns the metatable of request views.
export const LUA_PRELUDE = String.raw`
local host = ...
local raw_pcall, raw_xpcall, raw_load, raw_setmetatable, raw_error = pcall, xpcall, load, setmetatable, error
local raw_resume, raw_close, raw_collect = coroutine.resume, coroutine.close, collectgarbage
local type, select, tostring, rawget, next = type, select, tostring, rawget, next
local concat = table.concat
local interrupted = host.interrupted

-- A script past its budget is interrupted by an error; catching it must not let the script go on.
local function rethrow_interruption(ok, ...)
  if not ok and interrupted() then raw_error((...), 0) end
  return ok, ...
end
pcall = function(f, ...) return rethrow_interruption(raw_pcall(f, ...)) end
xpcall = function(f, handler, ...) return rethrow_interruption(raw_xpcall(f, handler, ...)) end
coroutine.resume = function(co, ...) return rethrow_interruption(raw_resume(co, ...)) end
coroutine.close = function(co) return rethrow_interruption(raw_close(co)) end

-- error("…") of the script is a deliberate refusal (the host tells it from a runtime error)
error = host.error

-- text chunks only: precompiled bytecode can break out of any sandbox
load = function(chunk, name, mode, ...)
  if select('#', ...) > 0 then return raw_load(chunk, name, 't', (...)) end
  return raw_load(chunk, name, 't')
end

-- a finalizer runs with hooks off, where no budget can stop it
setmetatable = function(t, mt)
  if type(mt) == 'table' and rawget(mt, '__gc') ~= nil then
    raw_error('__gc metamethods are not available to plugins', 2)
  end
  return raw_setmetatable(t, mt)
end

collectgarbage = function(option, ...)
  if option == nil or option == 'collect' or option == 'count' or option == 'step' then return raw_collect(option, ...) end
  raw_error('collectgarbage("' .. tostring(option) .. '") is not available to plugins', 2)
end

local os_time, os_date, os_clock = os.time, os.date, os.clock
os = { time = os_time, date = os_date, clock = os_clock }
io, debug, package, dofile, loadfile, warn = nil, nil, nil, nil, nil, nil
string.dump = nil

local loaded = {}
require = function(name)
  if type(name) ~= 'string' then raw_error('require expects a module name', 2) end
  local module = loaded[name]
  if module ~= nil then return module end
  module = host.module(name)(name)
  if module == nil then module = true end
  loaded[name] = module
  return module
end

local log = host.log
print = function(...)
  local count = select('#', ...)
  local parts = {}
  for i = 1, count do parts[i] = tostring((select(i, ...))) end
  log(concat(parts, '\t'))
end

switchyard = {
  log = function(message) log(tostring(message)) end,
  cache = { get = host.cache_get, set = host.cache_set, delete = host.cache_delete },
  json = { encode = host.json_encode, decode = host.json_decode },
}
-- switchAILocal scripts call switchai.log
switchai = switchyard

local materialize, materialize_all = host.materialize, host.materialize_all
return {
  __index = materialize,
  __pairs = function(t) materialize_all(t) return next, t, nil end,
  __metatable = false,
}
`;
