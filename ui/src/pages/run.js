// One run: its status and band, the timeline of every event (who, when, why), the steps,
// each connector call (what it was sent and what came back, masked for the reader), the
// replay verdict, and cancellation. The page follows the run live while it is open.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, may, watch } from '../api.js';
import { Alert, Band, PurposeForm, Status, Value, formatTime, storedPurpose } from '../util.js';
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

// The history fed again to the definition the run pinned, calling nothing.
function Replay({ replay }) {
  if (!replay) return '';
  let verdict;
  if (replay.identical) verdict = `Identical: the recorded history, fed again to the definition, gives the same ${replay.events} events.`;
  else if (replay.diverged_at) verdict = `Diverges at event ${replay.diverged_at}.`;
  else verdict = 'Not identical.';
  return html`<section aria-labelledby="replay-h"><h2 id="replay-h">Replay</h2>
    <p><strong>${verdict}</strong>${replay.complete === false ? ' The replay could not reach the end.' : ''}${replay.note ? ` ${replay.note}.` : ''}</p>
    ${replay.expected !== undefined && html`<dl class="verdict"><dt>Recorded</dt><dd><code>${replay.expected}</code></dd>
      <dt>Replayed</dt><dd><code>${replay.got}</code></dd></dl>`}
  </section>`;
}

function seconds(s) {
  if (typeof s !== 'number') return '';
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
}

const CONFIRMED = {
  interactive: 'at a prompt, after reading the task',
  yes_flag: 'with --yes, without a prompt',
};

// Each person's decision with the evidence that a person made it: when they opened the task,
// how long they took, how they confirmed, and the digest of exactly what they were shown.
function Decisions({ events }) {
  const votes = (events || []).filter((e) => e.type === 'ApprovalDecided');
  if (votes.length === 0) return '';
  return html`<section aria-labelledby="decisions-h"><h2 id="decisions-h">Human decisions</h2>
    <ol class="decisions">${votes.map((e) => {
      const d = e.data || {};
      const bySystem = (d.decided_by || '').startsWith('system:');
      const stance = d.agreed === true ? ', agreeing with the recommendation'
        : d.agreed === false ? `, not the recommendation${d.recommendation ? ` (${d.recommendation})` : ''}` : '';
      return html`<li>
        <p>${bySystem ? html`<strong>The system</strong> (${d.decided_by.slice(7)})` : html`<strong>${d.decided_by}</strong> (${(d.roles || []).join(', ')})`}${' '}decided <strong>${d.decision}</strong> on “${e.step}” on ${formatTime(e.time)}${d.rating ? `, rating ${d.rating}` : ''}${stance}.</p>
        <dl class="value-map">
          <dt>Reason</dt><dd>${d.reason || html`<span class="muted">(none)</span>`}</dd>
          ${!bySystem && html`<dt>Opened the task</dt><dd>${d.opened_at ? `${formatTime(d.opened_at)}, decided ${seconds(d.seconds_to_decide)} later` : 'not recorded'}</dd>
          <dt>Confirmed</dt><dd>${CONFIRMED[d.confirmed] || 'not stated'}</dd>
          <dt>What they were shown</dt><dd>${d.shown_digest ? html`SHA-256 <code>${d.shown_digest.slice(0, 16)}…</code> of the task as shown` : 'not recorded'}</dd>`}
        </dl></li>`;
    })}</ol></section>`;
}

function Calls({ calls }) {
  if (!calls || calls.length === 0) return '';
  return html`<section aria-labelledby="calls-h"><h2 id="calls-h">Connector calls</h2>
    <table class="calls">
      <caption class="visually-hidden">Each call to another system: why, what it was sent and what came back</caption>
      <thead><tr><th scope="col">Step</th><th scope="col">Action</th><th scope="col">Purpose</th><th scope="col">Access</th><th scope="col">Outcome</th><th scope="col">Sent</th><th scope="col">Came back</th></tr></thead>
      <tbody>${calls.map((c) => html`<tr>
        <td>${c.step}${c.attempt > 1 ? ` (attempt ${c.attempt})` : ''}</td><td><code>${c.action}</code></td><td>${c.purpose}</td>
        <td>${c.access}${c.recipient ? ` to ${c.recipient}` : ''}</td>
        <td>${c.outcome}${c.answered_at ? html`<br /><span class="muted">${formatTime(c.answered_at)}</span>` : ''}</td>
        <td><details><summary>Sent<span class="visually-hidden"> by ${c.step}</span></summary><${Value} value=${c.input} /></details></td>
        <td>${c.output !== undefined || c.error ? html`<details><summary>Came back<span class="visually-hidden"> to ${c.step}</span></summary>
          <${Value} value=${c.output !== undefined ? c.output : c.error} /></details>` : ''}</td>
      </tr>`)}</tbody>
    </table></section>`;
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
    api('GET', `/api/v1/runs/${encodeURIComponent(id)}?calls=1`, { purpose }).then((r) => {
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
  const pending = run.cancellation && run.cancellation.status === 'pending' && (run.status === 'running' || run.status === 'waiting');
  // Skipped steps are recorded too: the path taken is what ran (or runs, or waits).
  const taken = new Set(Object.entries(run.steps || {}).filter(([, s]) => s.status !== 'skipped' && s.status !== 'pending')
    .map(([k]) => k.replace(/\[.*$/, '')));
  // What each connector call is for, as the workflow declares it (recorded with every call).
  const purposes = Object.fromEntries(((workflow && workflow.steps) || []).filter((st) => st.purpose).map((st) => [st.id, st.purpose]));
  return html`<h1>Run ${run.id}</h1>
    <p class="meta">Workflow ${run.workflow} v${run.version} · started by ${run.started_by} on ${formatTime(run.started_at)} ·
      status <strong aria-live="polite">${run.status}</strong>${run.reference ? ` · reference ${run.reference}` : ''} · band <${Band} band=${run.band} /></p>
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
    <${Decisions} events=${run.events} />
    <${Calls} calls=${run.calls} />
    <${Replay} replay=${run.replay} />
    ${may('audit') && html`<p><a href=${`/ui/audit?run=${encodeURIComponent(run.id)}`}>Export this run's audit bundle</a></p>`}
    ${run.outputs && Object.keys(run.outputs).length > 0 && html`<section aria-labelledby="out-h"><h2 id="out-h">Outputs</h2><${Value} value=${run.outputs} /></section>`}
    ${notice && html`<${Status}>${notice}<//>`}
    ${pending && html`<section aria-labelledby="pending-cancel-h"><h2 id="pending-cancel-h">Cancellation asked</h2>
      <p>${run.cancellation.by} asked on ${formatTime(run.cancellation.at)} to cancel this run; someone else holding
        ${(run.cancellation.roles || []).join(' or ')} confirms or declines it. Until then the run carries on.</p>
      ${may('decide') && html`<p><a href=${`/ui/tasks/${encodeURIComponent(run.id)}/!cancel`}>Open the cancellation request</a></p>`}</section>`}
    ${(run.status === 'running' || run.status === 'waiting') && !pending && may('cancel_runs') && html`<form class="cancel" onSubmit=${cancel} aria-labelledby="cancel-h">
      <h2 id="cancel-h">Cancel this run</h2>
      <label for="cancel-reason">Reason (at least 10 characters; a second person confirms unless the workflow allows one)</label>
      <textarea id="cancel-reason" rows="2" required minlength="10" value=${cancelReason} onInput=${(e) => setCancelReason(e.target.value)}></textarea>
      <button type="submit">Ask to cancel</button>
    </form>`}`;
}
