"""The Lua scripts the bridge runs in Redis (each one atomic there).

Comments in each script say what it guarantees; :mod:`amiasync.bridge.appender`
and :mod:`amiasync.bridge.executor` call them.
"""

from __future__ import annotations

__all__ = [
    "EVENT_ENTRY",
    "GAP_ENTRY",
    "APPEND_BATCH",
    "TAKE_ACTION",
    "FINISH_ACTION",
    "ABANDON_ACTION",
]

#: The kind that leads an event entry in an APPEND_BATCH call.
EVENT_ENTRY = "e"
#: The kind that leads a gap entry.
GAP_ENTRY = "g"

#: Append a batch of entries to one PBX's stream.
#:
#: KEYS: the stream, the key holding the last batch token applied to it.
#: ARGV: token, maxlen ("" for no trimming), server, then the entries, each
#: led by its kind: an event is ``e`` and 3 arguments (name, headers,
#: received), a gap ``g`` and 4 (since, until, dropped, reason). The kind is
#: its own argument, never the event's name, so an event a PBX calls
#: ``__gap__`` is still an event. A gap whose since is "" takes the
#: ``received`` of the stream's last entry (a restarted bridge); on an
#: empty stream it is left out when it dropped nothing, else it starts at
#: its until.
#:
#: The whole layout is checked before the first write, and a bad one is
#: refused with an error and nothing appended: a script error after an XADD
#: would leave the batch half written and the token unset, so every retry
#: would append it again. The token makes a retry idempotent: a writer that
#: lost the reply to a batch Redis did apply sends it again with the same
#: token, and this script then appends nothing. Returns the number of
#: entries appended.
APPEND_BATCH = """
local stream, tokens = KEYS[1], KEYS[2]
if redis.call('HGET', tokens, stream) == ARGV[1] then
  return 0
end
local maxlen = ARGV[2]
if maxlen ~= '' and not string.match(maxlen, '^%d+$') then
  return redis.error_reply('ERR amiasync: maxlen is not a count: ' .. maxlen)
end
local i = 4
while i <= #ARGV do
  local kind = ARGV[i]
  if kind == 'e' then
    i = i + 4
  elseif kind == 'g' then
    if not string.match(ARGV[i + 3] or '', '^%d+$') then
      return redis.error_reply('ERR amiasync: a gap without its dropped count')
    end
    i = i + 5
  else
    return redis.error_reply('ERR amiasync: not an entry kind at argument ' .. i)
  end
end
if i ~= #ARGV + 1 then
  return redis.error_reply('ERR amiasync: the last entry is cut short')
end
local server = ARGV[3]
local n = 0
i = 4
while i <= #ARGV do
  if ARGV[i] == 'g' then
    local since, untl, dropped = ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
    if since == '' then
      local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)[1]
      if last then
        local fields = last[2]
        for f = 1, #fields, 2 do
          if fields[f] == 'received' then since = fields[f + 1] end
        end
        if since == '' then since = untl end
      elseif dropped ~= '0' then
        since = untl
      end
    end
    if since ~= '' then
      redis.call('XADD', stream, '*', 'server', server, 'event', '__gap__',
        'since', since, 'until', untl, 'dropped', dropped,
        'reason', ARGV[i + 4], 'received', untl)
      n = n + 1
    end
    i = i + 5
  else
    redis.call('XADD', stream, '*', 'server', server, 'event', ARGV[i + 1],
      'headers', ARGV[i + 2], 'received', ARGV[i + 3])
    n = n + 1
    i = i + 4
  end
end
if maxlen ~= '' then
  redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen)
end
redis.call('HSET', tokens, stream, ARGV[1])
return n
"""

#: Take an action request before sending it: the at-most-once step.
#:
#: KEYS: the actions stream, the in-flight hash. ARGV: group, entry id, the
#: record to keep while in flight (JSON). XACK answers 1 to exactly one
#: caller for a pending entry, so of all bridges that were delivered or
#: claimed it, one takes it; the record says it may have been sent.
TAKE_ACTION = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[1] .. ' ' .. ARGV[2], ARGV[3])
  return 1
end
return 0
"""

#: Reply to a taken action and forget it, in one step.
#:
#: KEYS: the in-flight hash, the reply stream. ARGV: the in-flight field,
#: the reply's time to live in seconds, then the reply's fields and values.
#: Only the caller that removes the record replies, so a reply is written
#: once, by the bridge that sent the action or, if it died, by the one that
#: answers ``unknown`` for it.
FINISH_ACTION = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then
  return 0
end
local fields = {}
for i = 3, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000, '*', unpack(fields))
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1
"""

#: Refuse an action without taking it (expired, unknown to this bridge):
#: acknowledged and answered at once, never sent.
#:
#: KEYS: the actions stream, the reply stream. ARGV: group, entry id, the
#: reply's time to live, then the reply's fields and values.
ABANDON_ACTION = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000, '*', unpack(fields))
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""
