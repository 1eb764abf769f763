// The audit trail: live verification (with the signing key and checkpoints), and a run's
// export bundle, itself a recorded disclosure, saved as a file that `vigil audit verify
// --bundle` checks offline.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

import { api, errorText } from '../api.js';
import { Alert, PurposeForm, Status, storedPurpose } from '../util.js';

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
    ${error && html`<${Alert}>${error}<//>`}`;
}
