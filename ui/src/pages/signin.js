import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

import { api, errorText } from '../api.js';
import { Alert } from '../util.js';

// `again`: the session ended under an open page, which is kept (hidden) until this person
// signs in again.
export function SignIn({ onSignedIn, again = false }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    const r = await api('POST', '/api/v1/session', { body: { token } });
    setBusy(false);
    setToken('');  // the token is not kept, not even in this page's memory
    if (r.ok) onSignedIn(r.data);
    else setError(errorText(r));
  };
  document.title = again ? 'Session ended · vigil workbench' : 'Sign in · vigil workbench';
  const form = html`<form onSubmit=${submit}>
      <label for="token">Your access token</label>
      <input id="token" name="token" type="password" autocomplete="off" required value=${token}
        onInput=${(e) => setToken(e.target.value)} />
      <p class="hint">The token your administrator gave you (it starts with <code>vgl_</code>). It is exchanged for a session and not stored by the browser.</p>
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
    ${error && html`<${Alert}>Sign-in failed: ${error}<//>`}`;
  if (again) {
    return html`<section class="signin">
      <h1 id="signin-h">Your session has ended</h1>
      <p>You were signed out after a while without use, or your access was withdrawn. Sign in again to carry on:
        what you had typed on this page is kept and shown again once you are signed in as the same person.</p>
      ${form}
    </section>`;
  }
  return html`<main id="main" class="signin">
    <h1>Sign in to the vigil workbench</h1>
    ${form}
  </main>`;
}
