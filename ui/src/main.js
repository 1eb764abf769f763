// The workbench: sign-in, then the pages a person's roles allow. Every page reads the API,
// which checks the caller's roles itself: the navigation only hides what would be refused.
import { html, render } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, setCaller, setCsrf } from './api.js';
import { Alert } from './util.js';
import { SignIn } from './pages/signin.js';
import { Inbox } from './pages/inbox.js';
import { Task } from './pages/task.js';
import { Cancellation } from './pages/cancellation.js';
import { Runs } from './pages/runs.js';
import { Run } from './pages/run.js';
import { Workflows, WorkflowPage } from './pages/workflows.js';
import { Audit } from './pages/audit.js';
import { Admin } from './pages/admin.js';

const PAGES = [
  { path: /^\/ui\/inbox$/, title: 'Inbox', needs: 'decide', view: () => html`<${Inbox} />` },
  // A cancellation waiting for a second person is an inbox task too (its step name, !cancel,
  // can be no step's id).
  { path: /^\/ui\/tasks\/([^/]+)\/(?:!|%21)cancel$/, title: 'Cancellation', needs: 'decide', view: (m) => html`<${Cancellation} run=${m[1]} />` },
  { path: /^\/ui\/tasks\/([^/]+)\/([^/]+)$/, title: 'Decision', needs: 'decide', view: (m) => html`<${Task} run=${m[1]} step=${m[2]} />` },
  { path: /^\/ui\/runs$/, title: 'Runs', needs: 'read_runs', view: () => html`<${Runs} />` },
  { path: /^\/ui\/runs\/([^/]+)$/, title: 'Run', needs: 'read_runs', view: (m) => html`<${Run} id=${m[1]} />` },
  { path: /^\/ui\/workflows$/, title: 'Workflows', needs: 'read_workflows', view: () => html`<${Workflows} />` },
  { path: /^\/ui\/workflows\/([^/]+)$/, title: 'Workflow', needs: 'read_workflows', view: (m) => html`<${WorkflowPage} name=${m[1]} />` },
  { path: /^\/ui\/audit$/, title: 'Audit', needs: 'audit', view: () => html`<${Audit} />` },
  { path: /^\/ui\/admin$/, title: 'Users', needs: 'manage_users', view: () => html`<${Admin} />` },
];

const NAV = [
  { href: '/ui/inbox', label: 'Inbox', needs: 'decide' },
  { href: '/ui/runs', label: 'Runs', needs: 'read_runs' },
  { href: '/ui/workflows', label: 'Workflows', needs: 'read_workflows' },
  { href: '/ui/audit', label: 'Audit', needs: 'audit' },
  { href: '/ui/admin', label: 'Users', needs: 'manage_users' },
];

export function navigate(path) {
  history.pushState(null, '', path);
  window.dispatchEvent(new Event('popstate'));
}

function decodePath(p) {
  try {
    return decodeURIComponent(p);
  } catch (e) {
    return p;
  }
}

function usePath() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return path;
}

function firstPage(me) {
  const nav = NAV.find((n) => me.permissions.includes(n.needs));
  return nav ? nav.href : '/ui/nothing';
}

function App() {
  const [me, setMe] = useState(undefined);  // undefined: asking; null: signed out
  // The session ended under an open page (idle, expiry, revocation): the page stays mounted
  // but hidden, so what the person typed survives signing in again; nobody at the screen
  // meanwhile sees what it showed.
  const [expired, setExpired] = useState(false);
  const [generation, setGeneration] = useState(0);  // a new person: every page starts afresh
  const current = useState({ me: undefined })[0];
  current.me = me;
  const [error, setError] = useState('');
  const path = usePath();

  const load = async () => {
    const r = await api('GET', '/api/v1/session');
    if (r.ok) {
      setCsrf(r.data.csrf_token);
      setCaller(r.data);
      setMe(r.data);
    } else if (r.status === 401) {
      setCsrf(null);
      setMe(null);
    } else {
      setError(errorText(r));
    }
  };
  useEffect(() => {
    load();
    const out = () => {
      setCsrf(null);
      if (current.me) setExpired(true);
      else setMe(null);
    };
    window.addEventListener('vigil:signed-out', out);
    return () => window.removeEventListener('vigil:signed-out', out);
  }, []);

  // After a change of page, focus goes to its content, so a keyboard or screen-reader user
  // starts there (as after a full page load) instead of on the link they left.
  const first = useState({ done: false })[0];
  useEffect(() => {
    if (!first.done) {
      first.done = true;
      return;
    }
    const main = document.getElementById('main');
    if (main) main.focus({ preventScroll: false });
  }, [path]);

  // Links inside the app change the page without reloading it.
  useEffect(() => {
    const click = (e) => {
      const a = e.target.closest && e.target.closest('a[href^="/ui/"]');
      if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault();
      navigate(a.getAttribute('href'));
    };
    document.addEventListener('click', click);
    return () => document.removeEventListener('click', click);
  }, []);

  if (error) return html`<main id="main"><${Alert}>${error}<//></main>`;
  if (me === undefined) return html`<main id="main"><p role="status">Loading…</p></main>`;
  if (me === null) {
    return html`<${SignIn} onSignedIn=${(who) => {
      setCsrf(who.csrf_token);
      setCaller(who);
      setMe(who);
      const here = PAGES.find((p) => decodePath(path).match(p.path));
      if (!here || !who.permissions.includes(here.needs)) navigate(firstPage(who));
    }} />`;
  }
  const signOut = async () => {
    await api('DELETE', '/api/v1/session');
    setCsrf(null);
    setExpired(false);
    setMe(null);
    navigate('/ui/signin');
  };
  const signedInAgain = (who) => {
    setCsrf(who.csrf_token);
    setCaller(who);
    setExpired(false);
    if (who.user !== me.user) {
      // Someone else signed in at this screen: nothing of the previous person's page is kept.
      setGeneration((g) => g + 1);
      navigate(firstPage(who));
    }
    setMe(who);
  };
  const page = PAGES.map((p) => ({ p, m: decodePath(path).match(p.path) })).find((x) => x.m);
  let body;
  if (!page) {
    if (path === '/' || path === '/ui/' || path === '/ui/signin') {
      navigate(firstPage(me));
      return null;
    }
    body = html`<h1>Page not found</h1><p>There is no page at this address. <a href=${firstPage(me)}>Go to your first page</a>.</p>`;
  } else if (!me.permissions.includes(page.p.needs)) {
    // The server would refuse the data anyway; say so plainly rather than show an empty page.
    body = html`<h1>Not allowed</h1><${Alert}>Your roles (${me.roles.join(', ')}) do not allow the ${page.p.title} page.<//>`;
  } else {
    body = page.p.view(page.m);
  }
  document.title = `${page ? page.p.title : 'vigil'} · vigil workbench`;
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header class="top" inert=${expired}>
      <span class="brand">vigil</span>
      <nav aria-label="Main">
        <ul>
          ${NAV.filter((n) => me.permissions.includes(n.needs)).map((n) => html`<li>
            <a href=${n.href} aria-current=${path.startsWith(n.href) ? 'page' : undefined}>${n.label}</a>
          </li>`)}
        </ul>
      </nav>
      <span class="who">Signed in as <strong>${me.user}</strong> (${me.roles.join(', ')})</span>
      <button type="button" onClick=${signOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1" hidden=${expired} key=${generation}>${body}</main>
    ${expired && html`<div class="expired" role="dialog" aria-modal="true" aria-labelledby="signin-h">
      <${SignIn} again=${true} onSignedIn=${signedInAgain} /></div>`}`;
}

const root = document.getElementById('app');
root.textContent = '';  // the "Loading" line of the static page
render(html`<${App} />`, root);
