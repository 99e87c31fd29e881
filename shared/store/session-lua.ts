// Lua scripts behind the session store. They know nothing of the rules: the allowed source
// states, the outcome and the audit entry type of each come from the lifecycle core
// (shared/session/lifecycle.ts), passed in as a table.

/**
 * Compare-and-set a session's state, then append the audit entry and publish the event, all in
 * one atomic step.
 * KEYS: 1 session hash, 2 audit stream, 3 lastSeen zset, 4 serial index of the session's serial
 *       (read only by a close; any key otherwise), 5 credential index of the appliance key being
 *       bound (activation only; any key otherwise), 6 the ticket's live-session set (a close of a
 *       session with a ticket drops it there; any key otherwise)
 * ARGV: 1 JSON {fromState: {a: audit type, o: outcome}}, 2 to-state, 3 now ms, 4 events channel, 5 actor,
 *       6 reason ('' if none), 7 relay id ('' if none), 8 session id, 9 event name,
 *       10 appliance public key to bind (base64, '' if none), 11 how long after issue the bound
 *       key's index lives, ms (its TTL is counted from the session's issuedAt, at least 60 s),
 *       12 the expiresAt the caller read ('' if none): another one now means an extension came
 *       between, and nothing changes
 * The event names the relay that made the transition (ARGV 7) when there is one: a relay that
 * sees another take its session over ends its own stale tunnel instead of reclaiming it.
 * Returns {status, fromState, outcome}: status 'ok' | 'missing' | 'illegal' | 'moved'.
 * Binding happens in the same step as the state change, so of many racers exactly one binds.
 */
export const TRANSITION_LUA = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing', '', ''} end
if ARGV[12] ~= '' and state ~= 'CLOSED' and redis.call('HGET', KEYS[1], 'expiresAt') ~= ARGV[12] then return {'moved', state, ''} end
local steps = cjson.decode(ARGV[1])
local step = steps[state]
if not step then return {'illegal', state, ''} end
local outcome = step.o
local to, now, sid = ARGV[2], ARGV[3], ARGV[8]
local serial = redis.call('HGET', KEYS[1], 'serial')
redis.call('HSET', KEYS[1], 'state', to, 'updatedAt', now)
if to == 'CONNECTED' then
  redis.call('HSET', KEYS[1], 'connectedAt', now, 'relayId', ARGV[7])
  if state == 'ISSUED' then redis.call('HSET', KEYS[1], 'activatedAt', now) end
  if ARGV[10] ~= '' then
    redis.call('HSET', KEYS[1], 'appliancePub', ARGV[10])
    local ttl = math.ceil((tonumber(redis.call('HGET', KEYS[1], 'issuedAt')) + tonumber(ARGV[11]) - tonumber(now)) / 1000)
    redis.call('SET', KEYS[5], sid, 'EX', math.max(60, ttl))
  end
  redis.call('ZADD', KEYS[3], now, sid)
elseif to == 'LOST' then
  redis.call('ZREM', KEYS[3], sid)
elseif to == 'CLOSED' then
  redis.call('HSET', KEYS[1], 'reason', ARGV[6], 'closedAt', now)
  redis.call('ZREM', KEYS[3], sid)
  if redis.call('GET', KEYS[4]) == sid then redis.call('DEL', KEYS[4]) end
  local ticket = redis.call('HGET', KEYS[1], 'ticket')
  if ticket and ticket ~= '' then redis.call('SREM', KEYS[6], sid) end
end
redis.call('XADD', KEYS[2], '*', 'type', step.a, 'sid', sid, 'serial', serial,
  'actor', ARGV[5], 'from', state, 'to', to, 'reason', ARGV[6], 'at', now)
redis.call('PUBLISH', ARGV[4], cjson.encode({sid = sid, serial = serial, from = state, to = to,
  outcome = outcome, reason = (ARGV[6] ~= '' and ARGV[6] or nil), relay = (ARGV[7] ~= '' and ARGV[7] or nil),
  at = tonumber(now)}))
return {'ok', state, outcome}
`;

/**
 * Create a session and make it the serial's current one, add it to its ticket's live sessions (the
 * set lives as long as the credential index), append `session.issued` to the audit and publish it
 * on the events channel (outcome `issued`, to ISSUED, no `from`) like a transition; returns the id
 * it displaced ('' if none).
 * KEYS: 1 session hash, 2 serial index, 3 credential index, 4 sessions zset, 5 audit stream,
 *       6 the ticket's live-session set (any key for a session without a ticket)
 * ARGV: 1 session id, 2 issuedAt ms, 3 actor, 4 credential index TTL seconds, 5 events channel,
 *       then field/value pairs
 */
export const CREATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.error_reply('session exists') end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
local previous = redis.call('GET', KEYS[2]) or ''
local serial = redis.call('HGET', KEYS[1], 'serial')
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
local ticket = redis.call('HGET', KEYS[1], 'ticket')
if ticket and ticket ~= '' then
  redis.call('SADD', KEYS[6], ARGV[1])
  redis.call('EXPIRE', KEYS[6], ARGV[4])
end
redis.call('XADD', KEYS[5], '*', 'type', 'session.issued', 'sid', ARGV[1],
  'serial', serial, 'actor', ARGV[3], 'at', ARGV[2])
redis.call('PUBLISH', ARGV[5], cjson.encode({sid = ARGV[1], serial = serial, to = 'ISSUED',
  outcome = 'issued', at = tonumber(ARGV[2])}))
return previous
`;

/**
 * Move a live session's expiry, append the audit entry and publish the event (outcome `extended`,
 * from and to its unchanged state), in one atomic step: a session closed meanwhile is not touched.
 * The support password in custody expires with the session, so its TTL moves in the same step (a
 * session without one is left so: PEXPIRE of a missing key does nothing).
 * KEYS: 1 session hash, 2 audit stream, 3 the session's password custody key
 * ARGV: 1 new expiresAt ms, 2 now ms, 3 actor, 4 events channel, 5 session id, 6 audit type
 * Returns {status, state}: status 'ok' | 'missing' | 'closed'.
 */
export const EXTEND_LUA = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'missing', ''} end
if state == 'CLOSED' then return {'closed', state} end
local serial = redis.call('HGET', KEYS[1], 'serial')
redis.call('HSET', KEYS[1], 'expiresAt', ARGV[1], 'updatedAt', ARGV[2])
redis.call('PEXPIRE', KEYS[3], math.max(1000, tonumber(ARGV[1]) - tonumber(ARGV[2])))
redis.call('XADD', KEYS[2], '*', 'type', ARGV[6], 'sid', ARGV[5], 'serial', serial,
  'actor', ARGV[3], 'expiresAt', ARGV[1], 'at', ARGV[2])
redis.call('PUBLISH', ARGV[4], cjson.encode({sid = ARGV[5], serial = serial, from = state, to = state,
  outcome = 'extended', expiresAt = tonumber(ARGV[1]), at = tonumber(ARGV[2])}))
return {'ok', state}
`;
