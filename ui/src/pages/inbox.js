// The caller's tasks: highest priority first, then the earliest due; filters, paging, and
// live updates while the page is open.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, watch } from '../api.js';
import { Alert, Band, Due } from '../util.js';

const ASSIGNED = [
  ['any', 'All my tasks'],
  ['me', 'Assigned to me by name'],
  ['my-roles', 'Assigned to my roles'],
  ['unclaimed', 'Not claimed by anyone'],
];

// The open tasks of the caller's teams by who holds them: what a supervisor balances.
// Read only while the panel is open: it counts every open task of the caller's roles.
function Workload({ tick }) {
  const [open, setOpen] = useState(false);
  const [load, setLoad] = useState(null);
  useEffect(() => {
    if (open) api('GET', '/api/v1/approvals/workload').then((r) => r.ok && setLoad(r.data));
  }, [open, tick]);
  return html`<details class="workload" onToggle=${(e) => setOpen(e.target.open)}>
    <summary>Team workload${load ? ` (${load.total} open for your roles)` : ''}</summary>
    ${!load ? (open ? html`<p role="status">Counting…</p>` : '') : load.people.length === 0 ? html`<p>No open tasks for your roles.</p>` : html`<table>
      <caption class="visually-hidden">Open tasks of your roles by who holds them</caption>
      <thead><tr><th scope="col">Held by</th><th scope="col">Open</th><th scope="col">Due within the hour</th><th scope="col">Overdue</th></tr></thead>
      <tbody>${load.people.map((p) => html`<tr>
        <th scope="row">${p.user || 'not claimed'}</th><td>${p.open}</td><td>${p.due_within_hour}</td><td>${p.overdue}</td>
      </tr>`)}</tbody>
    </table>`}</details>`;
}

export function Inbox() {
  const [filters, setFilters] = useState({ assigned: 'any', band: '', overdue: false, workflow: '', q: '' });
  const [cursors, setCursors] = useState([]);  // the cursors of the pages before this one
  const [cursor, setCursor] = useState('');
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);

  useEffect(() => watch('/api/v1/events?inbox=1', () => setTick((t) => t + 1)), []);

  useEffect(() => {
    const q = new URLSearchParams({ status: 'open', assigned: filters.assigned, limit: '50' });
    if (filters.band) q.set('band', filters.band);
    if (filters.overdue) q.set('overdue', 'true');
    if (filters.workflow) q.set('workflow', filters.workflow);
    if (filters.q) q.set('q', filters.q);
    if (cursor) q.set('cursor', cursor);
    let live = true;
    api('GET', `/api/v1/approvals?${q}`).then((r) => {
      if (!live) return;
      if (r.ok) {
        setPage(r.data);
        setError('');
      } else setError(errorText(r));
    });
    return () => {
      live = false;
    };
  }, [filters, cursor, tick]);

  const set = (k) => (e) => {
    setCursors([]);
    setCursor('');
    setFilters({ ...filters, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });
  };

  return html`<h1>Inbox</h1>
    <form class="filters" aria-label="Filter tasks" onSubmit=${(e) => e.preventDefault()}>
      <label>Show <select name="assigned" value=${filters.assigned} onChange=${set('assigned')}>
        ${ASSIGNED.map(([v, l]) => html`<option value=${v}>${l}</option>`)}
      </select></label>
      <label>Band <select name="band" value=${filters.band} onChange=${set('band')}>
        <option value="">Any band</option><option>RED</option><option>AMBER</option><option>GREEN</option>
      </select></label>
      <label><input type="checkbox" name="overdue" checked=${filters.overdue} onChange=${set('overdue')} /> Overdue only</label>
      <label>Workflow <input name="workflow" value=${filters.workflow} onChange=${set('workflow')} size="16" /></label>
      <label>Referral <input name="q" type="search" value=${filters.q} onChange=${set('q')} size="16" placeholder="SYN-REF-0005" /></label>
    </form>
    ${error && html`<${Alert}>${error}<//>`}
    <${Workload} tick=${tick} />
    ${page && html`
      <p role="status" aria-live="polite">${page.total} open task${page.total === 1 ? '' : 's'}${page.items.length < page.total ? `, ${page.items.length} shown` : ''}.</p>
      ${page.items.length === 0 ? html`<p>Nothing is waiting for you.</p>` : html`
      <table class="tasks">
        <caption class="visually-hidden">Open tasks, highest priority first</caption>
        <thead><tr><th scope="col">Band</th><th scope="col">Referral</th><th scope="col">Workflow</th><th scope="col">Due</th><th scope="col">Claimed by</th><th scope="col">Escalations</th></tr></thead>
        <tbody>
          ${page.items.map((t) => html`<tr class=${t.overdue ? 'overdue' : ''}>
            <td><${Band} band=${t.recommendation} /></td>
            <td><a href=${`/ui/tasks/${encodeURIComponent(t.run)}/${encodeURIComponent(t.step)}`}>${t.summary || t.id}</a></td>
            <td>${t.workflow}</td>
            <td><${Due} due=${t.due} /></td>
            <td>${t.claimed_by || html`<span class="muted">nobody</span>`}</td>
            <td>${t.escalations}</td>
          </tr>`)}
        </tbody>
      </table>`}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled=${cursors.length === 0} onClick=${() => {
          const prev = cursors.slice(0, -1);
          setCursor(cursors[cursors.length - 1] || '');
          setCursors(prev);
        }}>Previous page</button>
        <button type="button" disabled=${!page.next_cursor} onClick=${() => {
          setCursors([...cursors, cursor]);
          setCursor(page.next_cursor);
        }}>Next page</button>
      </nav>`}`;
}
