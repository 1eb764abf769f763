// Runs by id, with filters (status, workflow, band, who started it, when) and a search by
// the workflow's reference (a referral id). Reading the list is a recorded consultation.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText } from '../api.js';
import { Alert, Band, PurposeForm, formatTime, storedPurpose } from '../util.js';

const STATUSES = ['running', 'waiting', 'completed', 'failed', 'cancelled'];

export function Runs() {
  const [purpose, setPurpose] = useState(storedPurpose());
  const [filters, setFilters] = useState({ status: '', workflow: '', band: '', q: '', started_by: '', from: '', to: '' });
  const [after, setAfter] = useState([]);  // the `after` of each page shown so far
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');

  useEffect(() => {
    if (!purpose) return undefined;
    const q = new URLSearchParams({ limit: '50' });
    if (filters.status) q.set('status', filters.status);
    for (const k of ['workflow', 'band', 'q', 'started_by', 'from', 'to']) if (filters[k]) q.set(k, filters[k]);
    if (after.length) q.set('after', after[after.length - 1]);
    let live = true;
    api('GET', `/api/v1/runs?${q}`, { purpose }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setPage(r.data);
        setError('');
      } else setError(errorText(r));
    });
    return () => {
      live = false;
    };
  }, [purpose, filters, after]);

  const set = (k) => (e) => {
    setAfter([]);
    setFilters({ ...filters, [k]: e.target.value });
  };
  return html`<h1>Runs</h1>
    <${PurposeForm} purpose=${purpose} onChange=${setPurpose} />
    ${purpose && html`<form class="filters" aria-label="Filter runs" onSubmit=${(e) => e.preventDefault()}>
      <label>Status <select name="status" value=${filters.status} onChange=${set('status')}>
        <option value="">Any status</option>${STATUSES.map((s) => html`<option>${s}</option>`)}
      </select></label>
      <label>Workflow <input name="workflow" value=${filters.workflow} onChange=${set('workflow')} size="16" /></label>
      <label>Band <select name="band" value=${filters.band} onChange=${set('band')}>
        <option value="">Any band</option><option>RED</option><option>AMBER</option><option>GREEN</option>
      </select></label>
      <label>Reference <input name="q" type="search" value=${filters.q} onChange=${set('q')} size="16" placeholder="SYN-REF-0005" /></label>
      <label>Started by <input name="started_by" value=${filters.started_by} onChange=${set('started_by')} size="12" /></label>
      <label>Started from <input type="date" name="from" value=${filters.from} onChange=${set('from')} /></label>
      <label>Started up to <input type="date" name="to" value=${filters.to} onChange=${set('to')} /></label>
    </form>`}
    ${error && html`<${Alert}>${error}<//>`}
    ${purpose && page && html`
      <table class="runs">
        <caption class="visually-hidden">Runs</caption>
        <thead><tr><th scope="col">Run</th><th scope="col">Reference</th><th scope="col">Band</th><th scope="col">Workflow</th><th scope="col">Status</th><th scope="col">Started by</th><th scope="col">Started</th><th scope="col">Last change</th></tr></thead>
        <tbody>${page.items.map((r) => html`<tr>
          <td><a href=${`/ui/runs/${encodeURIComponent(r.id)}`}>${r.id}</a></td>
          <td>${r.reference || html`<span class="muted">none</span>`}</td><td><${Band} band=${r.band} /></td>
          <td>${r.workflow} v${r.version}</td><td>${r.status}</td><td>${r.started_by}</td>
          <td>${formatTime(r.started_at)}</td><td>${formatTime(r.updated_at)}</td>
        </tr>`)}</tbody>
      </table>
      ${page.items.length === 0 && html`<p role="status">No runs match these filters.</p>`}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled=${after.length === 0} onClick=${() => setAfter(after.slice(0, -1))}>Previous page</button>
        <button type="button" disabled=${!page.next} onClick=${() => setAfter([...after, page.next])}>Next page</button>
      </nav>`}`;
}
