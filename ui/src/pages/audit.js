// The audit trail: live verification (with the signing key and checkpoints), and a run's
// export bundle, itself a recorded disclosure, saved as a file that `vigil audit verify
// --bundle` checks offline.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

import { api, errorText } from '../api.js';
import { Alert, PurposeForm, Status, formatTime, storedPurpose } from '../util.js';

// Who read or disclosed run data, and why: the consultation and disclosure records of an
// export since a date (itself a recorded disclosure), filtered here by person and run.
function AccessLog({ purpose }) {
  const [since, setSince] = useState(new Date(Date.now() - 7 * 86400000).toISOString().slice(0, 10));
  const [person, setPerson] = useState('');
  const [run, setRun] = useState('');
  const [rows, setRows] = useState(null);
  const [error, setError] = useState('');
  const load = async (e) => {
    e.preventDefault();
    const r = await api('GET', `/api/v1/audit/export?${new URLSearchParams({ since })}`, { purpose });
    if (!r.ok) {
      setError(errorText(r));
      return;
    }
    setError('');
    setRows(r.data.records.map((x) => x.record).filter((x) => x && (x.kind === 'consultation' || x.kind === 'disclosure')));
  };
  const shown = (rows || []).filter((x) => (!person || x.actor === person) && (!run || x.run === run));
  return html`<section aria-labelledby="access-h">
    <h2 id="access-h">Who read what, and why</h2>
    <form class="filters" onSubmit=${load} aria-label="Access log">
      <label>Since <input type="date" name="since" required value=${since} onInput=${(e) => setSince(e.target.value)} /></label>
      <label>Person <input name="person" value=${person} onInput=${(e) => setPerson(e.target.value)} size="12" /></label>
      <label>Run <input name="run" value=${run} onInput=${(e) => setRun(e.target.value)} size="24" /></label>
      <button type="submit" disabled=${!purpose}>Show accesses</button>
    </form>
    ${error && html`<${Alert}>${error}<//>`}
    ${rows && html`<p role="status">${shown.length} of ${rows.length} accesses since ${since}.</p>
      <table>
        <caption class="visually-hidden">Reads and disclosures of run data</caption>
        <thead><tr><th scope="col">When</th><th scope="col">Person</th><th scope="col">Kind</th><th scope="col">Run</th><th scope="col">Step</th><th scope="col">Purpose</th><th scope="col">Recipient</th></tr></thead>
        <tbody>${shown.slice(0, 500).map((x) => html`<tr>
          <td>${formatTime(x.time)}</td><td>${x.actor}</td><td>${x.kind}</td><td>${x.run || html`<span class="muted">(a list)</span>`}</td>
          <td>${x.step || ''}</td><td>${x.purpose}</td><td>${x.recipient || ''}</td>
        </tr>`)}</tbody>
      </table>${shown.length > 500 ? html`<p>The first 500 are shown; narrow the filters.</p>` : ''}`}
  </section>`;
}

export function Audit() {
  const [verdict, setVerdict] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [purpose, setPurpose] = useState(storedPurpose());
  const [run, setRun] = useState('');
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
