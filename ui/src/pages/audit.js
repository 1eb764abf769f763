// The audit trail: live verification (with the signing key and the last signed checkpoint),
// a run's export bundle, itself a recorded disclosure, saved as a file that `vigil audit
// verify --bundle` checks offline, and the access log.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

import { api, errorText } from '../api.js';
import { Alert, PurposeForm, Status, formatTime, storedPurpose } from '../util.js';

// Who read or disclosed run data, and why: the consultation and disclosure records of the
// audit trail (GET /api/v1/audit/access, headers only), filtered and paged by the server,
// newest first. Reading them is itself a recorded consultation, so it needs a purpose.
const PAGE = 100;

function AccessLog({ purpose }) {
  const [form, setForm] = useState({ person: '', run: '', from: '', to: '' });
  const [asked, setAsked] = useState(null);  // the filters of the list shown
  const [before, setBefore] = useState([]);  // the `before` of each page shown after the first
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');
  const load = async (filters, cursors) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    for (const k of ['person', 'run', 'from', 'to']) if (filters[k]) q.set(k, filters[k]);
    if (cursors.length) q.set('before', String(cursors[cursors.length - 1]));
    const r = await api('GET', `/api/v1/audit/access?${q}`, { purpose });
    if (!r.ok) {
      setError(errorText(r));
      return;
    }
    setError('');
    setAsked(filters);
    setBefore(cursors);
    setPage(r.data);
  };
  const submit = (e) => {
    e.preventDefault();
    load({ ...form }, []);
  };
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });
  const first = before.length * PAGE + 1;
  return html`<section aria-labelledby="access-h">
    <h2 id="access-h">Who read what, and why</h2>
    <form class="filters" onSubmit=${submit} aria-label="Access log">
      <label>Person <input name="person" value=${form.person} onInput=${set('person')} size="12" /></label>
      <label>Run <input name="run" value=${form.run} onInput=${set('run')} size="24" /></label>
      <label>From <input type="date" name="from" value=${form.from} onInput=${set('from')} /></label>
      <label>To <input type="date" name="to" value=${form.to} onInput=${set('to')} /></label>
      <button type="submit" disabled=${!purpose}>Show accesses</button>
    </form>
    ${error && html`<${Alert}>${error}<//>`}
    ${page && html`<${Status}>${page.items.length === 0
      ? (before.length ? 'No older accesses match these filters.' : 'No accesses match these filters.')
      : `Accesses ${first} to ${first + page.items.length - 1}, newest first${page.next ? '; older ones follow' : ''}.`}<//>
      ${page.items.length > 0 && html`<table>
        <caption class="visually-hidden">Reads and disclosures of run data</caption>
        <thead><tr><th scope="col">Record</th><th scope="col">When</th><th scope="col">Person</th><th scope="col">Kind</th><th scope="col">Run</th><th scope="col">Step</th><th scope="col">Purpose</th><th scope="col">Recipient</th></tr></thead>
        <tbody>${page.items.map((x) => html`<tr>
          <td>${x.seq}</td><td>${formatTime(x.time)}</td><td>${x.actor}</td><td>${x.kind}</td><td>${x.run || html`<span class="muted">(a list)</span>`}</td>
          <td>${x.step || ''}</td><td>${x.purpose}</td><td>${x.recipient || ''}</td>
        </tr>`)}</tbody>
      </table>`}
      <nav class="pager" aria-label="Access log pages">
        <button type="button" disabled=${before.length === 0} onClick=${() => load(asked, before.slice(0, -1))}>Newer</button>
        <button type="button" disabled=${!page.next} onClick=${() => load(asked, [...before, page.next])}>Older</button>
      </nav>`}
  </section>`;
}

export function Audit() {
  const [verdict, setVerdict] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [purpose, setPurpose] = useState(storedPurpose());
  // A run page's "Export this run's bundle" link names the run (?run=ID).
  const [run, setRun] = useState(new URLSearchParams(location.search).get('run') || '');
  const [recipient, setRecipient] = useState('');
  const [download, setDownload] = useState(null);

  const verify = async () => {
    setBusy(true);
    const r = await api('GET', '/api/v1/audit/verify');
    setBusy(false);
    if (r.ok) setVerdict(r.data);
    else setError(errorText(r));
  };
  const exportRun = async (e) => {
    e.preventDefault();
    setDownload(null);
    const q = new URLSearchParams({ run });
    if (recipient) q.set('recipient', recipient);
    const r = await api('GET', `/api/v1/audit/export?${q}`, { purpose });
    if (!r.ok) {
      setError(errorText(r));
      return;
    }
    setError('');
    const blob = new Blob([JSON.stringify(r.data, null, 2)], { type: 'application/json' });
    setDownload({ href: URL.createObjectURL(blob), name: `vigil-bundle-${run}.json`, records: r.data.records.length });
  };
  return html`<h1>Audit</h1>
    <section aria-labelledby="verify-h">
      <h2 id="verify-h">Verification</h2>
      <button type="button" onClick=${verify} disabled=${busy}>Verify the audit trail now</button>
      ${verdict && html`<dl class="verdict">
        <dt>Result</dt><dd><strong>${verdict.ok ? 'OK: the chain and its signatures verify' : `FAILED at record ${verdict.first_bad}: ${verdict.problem}`}</strong></dd>
        <dt>Records</dt><dd>${verdict.records}</dd>
        <dt>Signed checkpoints</dt><dd>${verdict.checkpoints}</dd>
        <dt>Signing key</dt><dd><code>${verdict.key_id}</code></dd>
        <dt>Last signed checkpoint</dt><dd>${verdict.last_checkpoint
          ? html`${formatTime(verdict.last_checkpoint.time)} (record ${verdict.last_checkpoint.size}), key <code>${verdict.last_checkpoint.key_id}</code>`
          : 'none yet'}</dd>
        <dt>Head</dt><dd><code>${verdict.head}</code></dd>
        ${verdict.caveat && html`<dt>Caveat</dt><dd>${verdict.caveat}</dd>`}
      </dl>`}
    </section>
    <section aria-labelledby="export-h">
      <h2 id="export-h">Export a run's bundle</h2>
      <${PurposeForm} purpose=${purpose} onChange=${setPurpose} />
      <form onSubmit=${exportRun}>
        <div class="field"><label for="export-run">Run id</label>
          <input id="export-run" required value=${run} onInput=${(e) => setRun(e.target.value)} /></div>
        <div class="field"><label for="export-recipient">Recipient (who the bundle is for; you, if empty)</label>
          <input id="export-recipient" value=${recipient} onInput=${(e) => setRecipient(e.target.value)} /></div>
        <button type="submit" disabled=${!purpose}>Export bundle</button>
      </form>
      ${download && html`<${Status}>Bundle ready: ${download.records} records. <a href=${download.href} download=${download.name}>Save ${download.name}</a><//>`}
    </section>
    <${AccessLog} purpose=${purpose} />
    ${error && html`<${Alert}>${error}<//>`}`;
}
