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

export async function api(method, path, { body, purpose } = {}) {
  const headers = { Accept: 'application/json' };
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
// what it shows. The first connection is not a change: the page has just read. Returns a
// function that closes it.
export function watch(path, onChange) {
  if (typeof EventSource === 'undefined') return () => {};
  const source = new EventSource(path, { withCredentials: true });
  let connected = false;
  source.addEventListener('open', () => {
    if (connected) onChange({ type: 'open' });
    connected = true;
  });
  source.addEventListener('change', (e) => {
    let data = null;
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      data = null;
    }
    onChange({ type: 'change', data });
  });
  return () => source.close();
}
