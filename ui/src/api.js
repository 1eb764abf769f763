// The one way the workbench talks to the daemon: same-origin fetch with the session cookie
// (HttpOnly: this script never sees it), the session's CSRF token on every change, and the
// stated purpose on reads of run data. The token a person signs in with is sent once and
// kept nowhere.
let csrfToken = null;
let caller = null;  // GET /api/v1/session: who is signed in, and what their roles allow

export function setCsrf(token) {
  csrfToken = token || null;
}

export function setCaller(who) {
  caller = who || null;
}

// Whether the caller's roles allow `permission` (the server checks again on every call).
export function may(permission) {
  return !!caller && caller.permissions.includes(permission);
}

// The session ends after a while without the person doing anything, not without the page
// asking: what an open page asks by itself (re-reads after a change, more than a few seconds
// after the last key, click or touch) is marked X-Vigil-Background and does not renew the
// server's idle clock. Typing a long reason makes no request, so while the person is busy a
// light one renews it about once a minute.
const PERSONAL_MS = 5000;
let lastInput = Date.now();  // opening the page is the person's doing
let lastRenewed = Date.now();
for (const type of ['keydown', 'pointerdown', 'wheel', 'touchstart']) {
  window.addEventListener(type, () => {
    lastInput = Date.now();
  }, { capture: true, passive: true });
}
setInterval(() => {
  if (csrfToken && lastInput > lastRenewed && Date.now() - lastRenewed >= 55000) api('GET', '/api/v1/session', { personal: true });
}, 15000);

export async function api(method, path, { body, purpose, personal } = {}) {
  const headers = { Accept: 'application/json' };
  if (personal || Date.now() - lastInput <= PERSONAL_MS) lastRenewed = Date.now();
  else headers['X-Vigil-Background'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  if (purpose) headers['X-Vigil-Purpose'] = purpose;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch (e) {
    return { status: 0, ok: false, data: { error: { code: 'unreachable', message: 'the server cannot be reached; check your connection and try again' } } };
  }
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    data = null;
  }
  if (response.status === 401 && path !== '/api/v1/session') {
    window.dispatchEvent(new CustomEvent('vigil:signed-out'));
  }
  return { status: response.status, ok: response.ok, data };
}

// The message of an error answer, as the server worded it.
export function errorText(r) {
  const e = r && r.data && r.data.error;
  if (!e) return `the server answered ${r ? r.status : 'nothing'}`;
  return e.message + (e.field ? ` (${e.field})` : '');
}

// A live stream of changes (server-sent events) that calls `onChange` for each one, and
// on each reconnection (changes may have been missed meanwhile), so a page can re-read
// what it shows. The first connection is not a change: the page has just read. Changes
// that come faster than one per `quietMs` are coalesced: the first is passed on at once,
// the rest as one, with the latest, when the interval ends, so a busy inbox re-reads at
// most once a second instead of once per commit. Returns a function that closes it.
export function watch(path, onChange, quietMs = 1000) {
  if (typeof EventSource === 'undefined') return () => {};
  const source = new EventSource(path, { withCredentials: true });
  let connected = false;
  let last = 0;
  let pending = null;  // the latest change held back, while a timer runs
  let timer = null;
  const pass = (change) => {
    const wait = last + quietMs - Date.now();
    if (wait <= 0 && timer === null) {
      last = Date.now();
      onChange(change);
      return;
    }
    // A held change outranks a reconnection: a page may act on changes only.
    if (!(pending && pending.type === 'change' && change.type !== 'change')) pending = change;
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      const held = pending;
      pending = null;
      onChange(held);
    }, Math.max(wait, 0));
  };
  source.addEventListener('open', () => {
    if (connected) pass({ type: 'open' });
    connected = true;
  });
  source.addEventListener('change', (e) => {
    let data = null;
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      data = null;
    }
    pass({ type: 'change', data });
  });
  return () => {
    if (timer !== null) clearTimeout(timer);
    source.close();
  };
}
