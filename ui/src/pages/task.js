// One decision: the recommendation and every rule behind it, the evidence, the deadline,
// and the form. What the person typed survives a refusal or a conflict.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, watch } from '../api.js';
import { Alert, Band, Due, Status, Value, formatTime } from '../util.js';

function optionLabel(option, ratings, recommendation) {
  const words = option.replace(/_/g, ' ');
  const rating = ratings && ratings[option];
  if (rating) return `${words[0].toUpperCase()}${words.slice(1)} (rates ${rating})`;
  if (option === 'agree' && recommendation) return `Agree (keeps ${recommendation})`;
  return `${words[0].toUpperCase()}${words.slice(1)}`;
}

// What a rule's result means, in words: "Yes", or why it did not count.
function firedWords(r) {
  if (r.fired === true) return html`<strong>Yes</strong>`;
  if (r.fired === false) return 'No: its condition did not hold, so it adds nothing';
  return 'Not evaluated (the step did not reach it)';
}

function Rules({ step, rules, output }) {
  const fired = rules.filter((r) => r.fired === true);
  const score = output && typeof output.score === 'number' ? output.score : null;
  return html`<section aria-labelledby=${`rules-${step}`}>
    <h2 id=${`rules-${step}`}>Rules of “${step}”: ${fired.length} of ${rules.length} fired${score !== null ? `, score ${score}` : ''}</h2>
    <table class="rules">
      <thead><tr><th scope="col">Rule</th><th scope="col">Fired</th><th scope="col">Score</th><th scope="col">Why it matters</th><th scope="col">Values it read</th></tr></thead>
      <tbody>${rules.map((r) => html`<tr class=${r.fired ? 'fired' : ''}>
        <th scope="row">${r.id}</th>
        <td>${firedWords(r)}</td>
        <td>${r.fired && typeof r.score === 'number' ? `+${r.score}` : r.fired ? 'not recorded' : '0'}
          ${r.score_expr ? html`<details><summary>Score expression</summary><code>${r.score_expr}</code></details>` : ''}</td>
        <td>${r.reason}</td>
        <td>
          ${Object.keys(r.read || {}).length === 0 ? html`<span class="muted">(none)</span>` : html`<dl class="value-map">
            ${Object.entries(r.read).map(([k, v]) => html`<dt>${k}</dt><dd><${Value} value=${v} /></dd>`)}
          </dl>`}
          <details><summary>Expression</summary><code>${r.when}</code></details>
        </td>
      </tr>`)}</tbody>
    </table>
  </section>`;
}

// Which systems the run asked before this task opened, and which did not answer.
function Systems({ systems }) {
  if (!systems || systems.length === 0) return '';
  const silent = systems.filter((s) => s.status !== 'answered');
  return html`<section aria-labelledby="systems-h">
    <h2 id="systems-h">Systems asked: ${systems.length - silent.length} of ${systems.length} answered</h2>
    ${silent.length > 0 && html`<p><strong>Not answered: ${silent.map((s) => s.action).join(', ')}.</strong> The rating was made without them.</p>`}
    <table class="systems">
      <thead><tr><th scope="col">Step</th><th scope="col">System and action</th><th scope="col">Answer</th><th scope="col">Attempts</th></tr></thead>
      <tbody>${systems.map((s) => html`<tr><th scope="row">${s.step}</th><td><code>${s.action}</code></td>
        <td>${s.status === 'answered' ? 'Answered' : html`<strong>${s.status[0].toUpperCase()}${s.status.slice(1)}</strong>`}${s.error ? ` (${s.error})` : ''}</td>
        <td>${s.attempts}</td></tr>`)}</tbody>
    </table>
  </section>`;
}

function Escalations({ history }) {
  if (!history || history.length === 0) return html`<p>Not escalated so far.</p>`;
  return html`<ol class="escalations" aria-label="Escalations so far">${history.map((e) => html`<li>
    Level ${e.level} on ${formatTime(e.at)} to ${(e.to || []).join(', ')}${e.reminder ? ` · reminder ${e.reminder}` : ''}</li>`)}</ol>`;
}

function Field({ field, value, onChange }) {
  const id = `form-${field.name}`;
  const label = field.description || field.name;
  if (field.type === 'boolean') {
    return html`<div class="field"><input type="checkbox" id=${id} name=${field.name} checked=${!!value}
      onChange=${(e) => onChange(e.target.checked)} /> <label for=${id}>${label}</label></div>`;
  }
  if (field.enum && field.enum.length) {
    return html`<div class="field"><label for=${id}>${label}</label>
      <select id=${id} name=${field.name} value=${value ?? ''} onChange=${(e) => onChange(e.target.value)}>
        <option value="">(choose)</option>${field.enum.map((v) => html`<option value=${v}>${v}</option>`)}
      </select></div>`;
  }
  const numeric = field.type === 'number' || field.type === 'integer';
  return html`<div class="field"><label for=${id}>${label}</label>
    <input id=${id} name=${field.name} type=${numeric ? 'number' : 'text'} value=${value ?? ''}
      onInput=${(e) => onChange(numeric ? Number(e.target.value) : e.target.value)} /></div>`;
}

export function Task({ run, step }) {
  const [task, setTask] = useState(null);
  const [error, setError] = useState('');
  const [decision, setDecision] = useState('');
  const [reason, setReason] = useState('');
  const [form, setForm] = useState({});
  const [outcome, setOutcome] = useState(null);
  const [refusal, setRefusal] = useState('');
  const [busy, setBusy] = useState(false);
  const path = `/api/v1/approvals/${encodeURIComponent(run)}/${encodeURIComponent(step)}`;

  const load = async (keepForm) => {
    const r = await api('GET', path);
    if (!r.ok) {
      setError(errorText(r));
      return null;
    }
    setError('');
    setTask(r.data);
    if (!keepForm) {
      const initial = {};
      for (const f of (r.data.decision_form && r.data.decision_form.fields) || []) {
        if (f.default !== null && f.default !== undefined) initial[f.name] = f.default;
      }
      setForm(initial);
    }
    return r.data;
  };
  useEffect(() => {
    load(false);
  }, [run, step]);
  // Someone else deciding, or the task being reassigned, shows here while it is open.
  useEffect(() => watch(`/api/v1/events?run=${encodeURIComponent(run)}`, (e) => {
    if (e.type === 'change') load(true);
  }), [run]);

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setRefusal('');
    const r = await api('POST', `${path}/decide`, {
      body: { decision, reason, form, shown_digest: task.shown_digest, confirmed: 'interactive' },
    });
    setBusy(false);
    if (r.ok) {
      setOutcome(r.data);
      load(true);
      return;
    }
    const code = r.data && r.data.error && r.data.error.code;
    if (code === 'stale_view') {
      // What it shows changed since it was opened: show the new view, keep what was typed.
      await load(true);
      setRefusal('This task changed since you opened it. Review what it shows now; your decision and reason are kept below. Submit again to decide on what you see.');
    } else if (code === 'conflict') {
      await load(true);
      setRefusal(`Not recorded: ${errorText(r)}. Someone may have decided it already; your reason is kept below.`);
    } else {
      setRefusal(`Not recorded: ${errorText(r)}`);
    }
  };

  const claim = async () => {
    const r = await api('POST', `${path}/claim`);
    if (r.ok) load(true);
    else setRefusal(`Not claimed: ${errorText(r)}`);
  };

  if (error) return html`<h1>Decision</h1><${Alert}>${error}<//>`;
  if (!task) return html`<p role="status">Loading the task…</p>`;
  const df = task.decision_form || { options: task.options, ratings: {}, reason: { required: true, min_length: 10 }, fields: [] };
  const rules = task.rules || {};
  const open = task.status === 'open';
  // Someone else decided (or the task closed) while this person was filling in the form:
  // the form stays, with what they typed, and says why it can no longer be sent.
  const typed = decision !== '' || reason !== '';
  const overtaken = !open && typed && !outcome;
  return html`<h1>Decision: ${task.summary}</h1>
    <p class="meta">Workflow ${task.workflow} v${task.version}, step ${task.step} ·
      run <a href=${`/ui/runs/${encodeURIComponent(task.run)}`}>${task.run}</a> · status <strong>${task.status}</strong></p>
    <section class="recommendation" aria-labelledby="rec">
      <h2 id="rec">Recommendation</h2>
      <p><${Band} band=${task.recommendation} />${Object.keys(rules).map((s) => {
        const out = (task.show || {})[`steps.${s}.output`];
        return out && typeof out.score === 'number' ? html` <span>score ${out.score} from the rules of “${s}”</span>` : '';
      })}</p>
      <p>Due: <${Due} due=${task.due} />${task.escalations > 0 ? html` · escalated ${task.escalations} time${task.escalations === 1 ? '' : 's'}` : ''}</p>
      <${Escalations} history=${task.escalation_history} />
      <p>Assigned to: ${[...(task.assigned.roles || []), ...(task.assigned.users || [])].join(', ') || 'nobody'}</p>
      <p>${task.claim ? html`Claimed by <strong>${task.claim.yours ? 'you' : task.claim.by}</strong> until ${formatTime(task.claim.until)}`
        : 'Not claimed by anyone.'}
        ${open && (!task.claim || task.claim.yours) ? html` <button type="button" onClick=${claim}>${task.claim ? 'Keep my claim' : 'Claim this task'}</button>` : ''}</p>
    </section>
    ${Object.entries(rules).map(([s, rs]) => html`<${Rules} step=${s} rules=${rs} output=${(task.show || {})[`steps.${s}.output`]} />`)}
    <${Systems} systems=${task.systems} />
    <section aria-labelledby="evidence">
      <h2 id="evidence">Evidence</h2>
      <dl class="evidence">${Object.entries(task.show || {}).map(([k, v]) => html`<dt>${k}</dt><dd><${Value} value=${v} /></dd>`)}</dl>
    </section>
    ${task.votes.length > 0 && html`<section aria-labelledby="votes"><h2 id="votes">Decisions so far</h2>
      <ul>${task.votes.map((v) => html`<li>${v.decided_by}: ${v.decision}</li>`)}</ul></section>`}
    ${outcome && html`<${Status}>Decision recorded: ${outcome.decision} by ${outcome.decided_by} (${outcome.status === 'decided' ? 'the run continues' : 'waiting for the other decisions'}).
      <a href=${`/ui/runs/${encodeURIComponent(task.run)}`}>See the run's timeline</a>.<//>`}
    ${refusal && html`<${Alert}>${refusal}<//>`}
    ${overtaken && html`<${Alert}>This task was ${task.status} by someone else while you had it open
      (${task.votes.map((v) => `${v.decided_by}: ${v.decision}`).join('; ') || 'no decision recorded'}). Your decision was not recorded;
      what you typed is kept below so you can copy it into a note or a new referral.<//>`}
    ${open || overtaken ? html`<form class="decide" onSubmit=${submit} aria-labelledby="decide-h">
      <h2 id="decide-h">Your decision</h2>
      <fieldset>
        <legend>Decision</legend>
        ${df.options.map((o) => html`<div class="field"><input type="radio" id=${`opt-${o}`} name="decision" value=${o} required
          checked=${decision === o} onChange=${() => setDecision(o)} /> <label for=${`opt-${o}`}>${optionLabel(o, df.ratings, task.recommendation)}</label></div>`)}
      </fieldset>
      ${df.fields.map((f) => html`<${Field} field=${f} value=${form[f.name]} onChange=${(v) => setForm({ ...form, [f.name]: v })} />`)}
      <div class="field">
        <label for="reason">Reason${df.reason.required ? ` (required, at least ${df.reason.min_length} characters)` : ''}</label>
        <textarea id="reason" name="reason" rows="4" required=${df.reason.required} minlength=${df.reason.min_length}
          value=${reason} onInput=${(e) => setReason(e.target.value)}></textarea>
      </div>
      <button type="submit" disabled=${busy || !decision || !open}>Record decision</button>
    </form>` : html`<p>This task is ${task.status}; it cannot be decided here.</p>`}
    <p class="meta">Opened ${formatTime(task.opened_at)}; what you see is recorded with your decision (digest ${task.shown_digest.slice(0, 12)}…).</p>`;
}
