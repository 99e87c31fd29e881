// One EventSource per signed-in tab on GET /v1/events. Pages subscribe to session transitions and
// to (re)connections, on which they reload what they show (events missed while disconnected are
// not replayed by the server).

let source = null;
let retryTimer = null;
let state = 'off';
const sessionListeners = new Set();
const stateListeners = new Set();

function setState(next) {
  if (next === state) return;
  const was = state;
  state = next;
  for (const l of [...stateListeners]) l(next, was);
}

export function startLive() {
  if (source) return;
  clearTimeout(retryTimer);
  setState('connecting');
  source = new EventSource('/v1/events');
  source.addEventListener('session', (ev) => {
    let data;
    try {
      data = JSON.parse(ev.data);
    } catch {
      return;
    }
    for (const l of [...sessionListeners]) l(data);
  });
  source.addEventListener('open', () => setState('live'));
  source.addEventListener('error', () => {
    if (source && source.readyState === EventSource.CLOSED) {
      // The browser gives up on a non-200 answer (a restart, or a signed-out session): try again later.
      source = null;
      setState('reconnecting');
      retryTimer = setTimeout(startLive, 3000);
    } else {
      setState('reconnecting');
    }
  });
}

export function stopLive() {
  clearTimeout(retryTimer);
  if (source) source.close();
  source = null;
  setState('off');
}

/** fn(event) for every transition; returns the unsubscribe function. */
export function onSession(fn) {
  sessionListeners.add(fn);
  return () => sessionListeners.delete(fn);
}

/** fn(state, previous) with state 'connecting' | 'live' | 'reconnecting' | 'off'; returns the unsubscribe function. */
export function onLiveState(fn) {
  stateListeners.add(fn);
  return () => stateListeners.delete(fn);
}

export function liveState() {
  return state;
}
