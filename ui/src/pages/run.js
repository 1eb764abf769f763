// One run: its status, the timeline of every event (who, when, why), the steps, and
// cancellation. The timeline follows the run live while the page is open.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, watch } from '../api.js';
import { Alert, PurposeForm, Status, Value, formatTime, storedPurpose } from '../util.js';
import { StepGraph } from './graph.js';

// Who acted in an event and why, from what its data records.
function actor(e) {
  const d = e.data || {};
  return d.decided_by || d.by || d.started_by || d.actor || '';
}
function why(e, purposes) {
  const d = e.data || {};
  const step = (e.step || '').replace(/\[.*$/, '');
  if (e.type === 'StepStarted' && purposes[step]) return `purpose: ${purposes[step]}`;
  if (d.reason) return d.reason;
  if (d.purpose) return `purpose: ${d.purpose}`;
  if (d.error && d.error.message) return d.error.message;
  if (d.message) return d.message;
  if (e.type === 'DecisionRecorded') return `score ${d.score}, band ${d.band}`;
  return '';
}

export function Run({ id }) {
  const [purpose, setPurpose] = useState(storedPurpose());
  const [run, setRun] = useState(null);
  const [workflow, setWorkflow] = useState(null);
  const [error, setError] = useState('');
  const [cancelReason, setCancelReason] = useState('');
  const [notice, setNotice] = useState('');
  const [tick, setTick] = useState(0);

  useEffect(() => watch(`/api/v1/events?run=${encodeURIComponent(id)}`, () => setTick((t) => t + 1)), [id]);
  useEffect(() => {
    if (!purpose) return undefined;
    let live = true;
    api('GET', `/api/v1/runs/${encodeURIComponent(id)}`, { purpose }).then((r) => {
      if (!live) return;
      if (r.ok) {
        setRun(r.data);
        setError('');
      } else setError(errorText(r));
    });
    return () => {
      live = false;
    };
  }, [id, purpose, tick]);
  useEffect(() => {
    if (!run) return;
    api('GET', `/api/v1/workflows/${encodeURIComponent(run.workflow)}?version=${run.version}`).then((r) => {
      if (r.ok) setWorkflow(r.data);
    });
  }, [run && run.workflow, run && run.version]);

  const cancel = async (e) => {
    e.preventDefault();
    const r = await api('POST', `/api/v1/runs/${encodeURIComponent(id)}/cancel`, { body: { reason: cancelReason } });
    if (r.status === 202) setNotice(`Cancellation requested: it waits for a second person (${(r.data.confirm_by || []).join(', ')}) to confirm.`);
    else if (r.ok) setNotice('The run is cancelled.');
    else setNotice(`Not cancelled: ${errorText(r)}`);
    setTick((t) => t + 1);
  };

  if (!purpose) return html`<h1>Run ${id}</h1><${PurposeForm} purpose=${purpose} onChange=${setPurpose} />`;
  if (error) return html`<h1>Run ${id}</h1><${Alert}>${error}<//>`;
  if (!run) return html`<p role="status">Loading the run…</p>`;
  const taken = new Set(Object.keys(run.steps || {}).map((k) => k.replace(/\[.*$/, '')));
  // What each connector call is for, as the workflow declares it (recorded with every call).
  const purposes = Object.fromEntries(((workflow && workflow.steps) || []).filter((st) => st.purpose).map((st) => [st.id, st.purpose]));
  return html`<h1>Run ${run.id}</h1>
    <p class="meta">Workflow ${run.workflow} v${run.version} · started by ${run.started_by} on ${formatTime(run.started_at)} ·
      status <strong aria-live="polite">${run.status}</strong></p>
    ${workflow && html`<section aria-labelledby="graph-h"><h2 id="graph-h">Steps (the path taken is highlighted)</h2>
      <${StepGraph} workflow=${workflow} taken=${taken} statuses=${run.steps} /></section>`}
    <section aria-labelledby="timeline-h">
      <h2 id="timeline-h">Timeline</h2>
      <table class="timeline">
        <caption class="visually-hidden">Every event of the run, in order</caption>
        <thead><tr><th scope="col">#</th><th scope="col">When</th><th scope="col">Event</th><th scope="col">Step</th><th scope="col">Who</th><th scope="col">Why</th><th scope="col">Recorded</th></tr></thead>
        <tbody>${(run.events || []).map((e) => html`<tr>
          <td>${e.seq}</td><td>${formatTime(e.time)}</td><td>${e.type}</td><td>${e.step || ''}</td><td>${actor(e)}</td><td>${why(e, purposes)}</td>
          <td>${e.data && Object.keys(e.data).length ? html`<details><summary>Details<span class="visually-hidden"> of event ${e.seq}</span></summary>
            <${Value} value=${e.data} /></details>` : ''}</td>
        </tr>`)}</tbody>
      </table>
    </section>
    ${run.outputs && Object.keys(run.outputs).length > 0 && html`<section aria-labelledby="out-h"><h2 id="out-h">Outputs</h2><${Value} value=${run.outputs} /></section>`}
    ${notice && html`<${Status}>${notice}<//>`}
    ${(run.status === 'running' || run.status === 'waiting') && html`<form class="cancel" onSubmit=${cancel} aria-labelledby="cancel-h">
      <h2 id="cancel-h">Cancel this run</h2>
      <label for="cancel-reason">Reason (at least 10 characters; a second person confirms unless the workflow allows one)</label>
      <textarea id="cancel-reason" rows="2" required minlength="10" value=${cancelReason} onInput=${(e) => setCancelReason(e.target.value)}></textarea>
      <button type="submit">Ask to cancel</button>
    </form>`}`;
}
