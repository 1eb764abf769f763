// A run's cancellation waiting for a second person (the inbox task RUN/!cancel): who asked,
// why and when, and the run it would end. Someone holding the confirming role confirms or
// declines with a reason; the person who asked may only withdraw it. The server decides
// who may do what: this page offers what it was told the caller may do.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, watch } from '../api.js';
import { Alert, Status, formatTime } from '../util.js';

const STATUS_WORDS = {
  pending: 'waiting for a second person',
  confirmed: 'confirmed: the run is cancelled',
  declined: 'declined: the run carries on',
  closed: 'closed: the run ended before anyone decided',
};

export function Cancellation({ run }) {
  const [task, setTask] = useState(null);
  const [error, setError] = useState('');
  const [decision, setDecision] = useState('');
  const [reason, setReason] = useState('');
  const [outcome, setOutcome] = useState('');
  const [refusal, setRefusal] = useState('');
  const [busy, setBusy] = useState(false);

  const load = async () => {
    const r = await api('GET', `/api/v1/approvals/${encodeURIComponent(run)}/!cancel`);
    if (r.ok) {
      setTask(r.data);
      setError('');
    } else setError(errorText(r));
  };
  useEffect(() => {
    load();
  }, [run]);
  // Someone else deciding while this page is open shows here; what was typed stays.
  useEffect(() => watch(`/api/v1/events?run=${encodeURIComponent(run)}`, (e) => {
    if (e.type === 'change') load();
  }), [run]);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setRefusal('');
    const r = await api('POST', `/api/v1/runs/${encodeURIComponent(run)}/cancellation`, { body: { decision, reason } });
    setBusy(false);
    if (r.ok) {
      setOutcome(r.data.status === 'cancelled' ? 'Cancellation confirmed: the run is cancelled.' : 'Cancellation declined: the run carries on.');
      load();
    } else {
      setRefusal(`Not recorded: ${errorText(r)}. Your reason is kept below.`);
      load();
    }
  };

  if (error) return html`<h1>Cancellation</h1><${Alert}>${error}<//>`;
  if (!task) return html`<p role="status">Loading the cancellation request…</p>`;
  const open = task.status === 'pending';
  // The requester may withdraw their own request, never confirm it (four-eyes).
  const choices = task.asked_by_you ? [['decline', 'Withdraw my request (the run carries on)']]
    : task.you_may_confirm ? [['confirm', 'Confirm: cancel the run'], ['decline', 'Decline: the run carries on']] : [];
  return html`<h1>Cancellation of run ${task.run}</h1>
    <p class="meta">Workflow ${task.workflow} v${task.version}${task.reference ? `, ${task.reference}` : ''} ·
      run <a href=${`/ui/runs/${encodeURIComponent(task.run)}`}>${task.run}</a> (${task.waiting_on.length ? `waiting on ${task.waiting_on.join(', ')}` : task.run_status}) ·
      started by ${task.started_by || 'a trigger'} on ${formatTime(task.started_at)}</p>
    <section aria-labelledby="request-h">
      <h2 id="request-h">The request</h2>
      <dl class="evidence">
        <dt>Asked by</dt><dd>${task.requested_by}${task.asked_by_you ? ' (you)' : ''}</dd>
        <dt>On</dt><dd>${formatTime(task.requested_at)}</dd>
        <dt>Reason</dt><dd>${task.reason}</dd>
        <dt>Confirmed by</dt><dd>someone else holding ${task.confirm_by.join(' or ')}</dd>
        <dt>Status</dt><dd><strong>${STATUS_WORDS[task.status] || task.status}</strong>${task.decided_by ? ` (by ${task.decided_by} on ${formatTime(task.decided_at)})` : ''}</dd>
      </dl>
    </section>
    ${outcome && html`<${Status}>${outcome} <a href=${`/ui/runs/${encodeURIComponent(task.run)}`}>See the run's timeline</a>.<//>`}
    ${refusal && html`<${Alert}>${refusal}<//>`}
    ${task.asked_by_you && open && html`<p>You asked for this cancellation, so someone else must confirm it.</p>`}
    ${open && choices.length > 0 ? html`<form class="decide" onSubmit=${submit} aria-labelledby="cancel-decide-h">
      <h2 id="cancel-decide-h">Your decision</h2>
      <fieldset>
        <legend>Decision</legend>
        ${choices.map(([v, label]) => html`<div class="field"><input type="radio" id=${`cancel-${v}`} name="decision" value=${v} required
          checked=${decision === v} onChange=${() => setDecision(v)} /> <label for=${`cancel-${v}`}>${label}</label></div>`)}
      </fieldset>
      <div class="field">
        <label for="cancel-why">Reason (required, at least 10 characters)</label>
        <textarea id="cancel-why" name="reason" rows="3" required minlength="10" value=${reason}
          onInput=${(e) => setReason(e.target.value)}></textarea>
      </div>
      <button type="submit" disabled=${busy || !decision}>Record decision</button>
    </form>` : !open ? html`<p>This request is ${task.status}; nothing is left to decide.</p>` : ''}`;
}
