// The catalogue: each active workflow with its versions, owner, triggers and whether its
// file's latest load was refused; the folder files that failed to load and why; and one
// workflow's drawing and definition.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, may } from '../api.js';
import { Alert, formatTime } from '../util.js';
import { StepGraph } from './graph.js';

// An author checks a workflow file before publishing it: every problem with its line and
// column, as `vigil validate` reports them.
function CheckWorkflow() {
  const [source, setSource] = useState('');
  const [file, setFile] = useState('workflow.yaml');
  const [result, setResult] = useState(null);
  const check = async (e) => {
    e.preventDefault();
    const r = await api('POST', '/api/v1/workflows/validate', { body: { source, file } });
    setResult(r);
  };
  const diags = result && result.data && result.data.diagnostics ? result.data.diagnostics : [];
  return html`<section aria-labelledby="check-h">
    <h2 id="check-h">Check a workflow</h2>
    <form onSubmit=${check}>
      <div class="field"><label for="wf-file">File name</label>
        <input id="wf-file" value=${file} onInput=${(e) => setFile(e.target.value)} /></div>
      <div class="field"><label for="wf-source">Workflow YAML</label>
        <textarea id="wf-source" rows="10" required value=${source} onInput=${(e) => setSource(e.target.value)}></textarea></div>
      <button type="submit">Check</button>
    </form>
    ${result && (result.ok
      ? html`<p role="status">Valid: ${result.data.name} v${result.data.version} (<code>${result.data.sha256.slice(0, 12)}</code>)${diags.length ? `, with ${diags.length} warning${diags.length === 1 ? '' : 's'}` : ''}.</p>`
      : html`<${Alert}>Not valid: ${errorText(result)}<//>`)}
    ${diags.length > 0 && html`<table>
      <caption class="visually-hidden">Problems found</caption>
      <thead><tr><th scope="col">Where</th><th scope="col">Severity</th><th scope="col">Kind</th><th scope="col">Problem</th></tr></thead>
      <tbody>${diags.map((d) => html`<tr><td>${file}:${d.line}:${d.column}</td><td>${d.severity}</td><td>${d.category}</td><td>${d.message}</td></tr>`)}</tbody>
    </table>`}
  </section>`;
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

// A workflow's status in words: its active version is valid; when the latest load of its
// file was refused, the earlier version is what still runs.
function validationText(w) {
  return w.validation === 'refused' ? `Latest file refused: ${plural(w.problem_count, 'problem')}` : 'Valid';
}

// What the last load of the workflow folders refused (at start, or when the daemon was sent
// SIGHUP): each problem where it is, as `vigil validate` prints it, and what stays active.
function LoadProblems({ problems, onRefresh }) {
  const kept = (p) => {
    if (!p.active) return 'No earlier version is active.';
    const whose = p.workflow && p.active.workflow !== p.workflow ? ` of ${p.active.workflow}` : '';
    return `Version ${p.active.version}${whose} stays active.`;
  };
  return html`<section aria-labelledby="load-problems-h">
    <h2 id="load-problems-h">Files that failed to load</h2>
    <p role="status">${problems.length === 0
      ? 'Every workflow file in the folders loaded at the last reload.'
      : `${plural(problems.length, 'file')} failed to load at the last reload.`}</p>
    <button type="button" onClick=${onRefresh}>Refresh list</button>
    ${problems.length > 0 && html`<ul class="load-problems">${problems.map((p) => html`<li>
      <h3>${p.file}${p.workflow ? ` (${p.workflow}${p.version ? ` v${p.version}` : ''})` : ''}</h3>
      <p>Refused when loaded at <time datetime=${p.loaded_at}>${formatTime(p.loaded_at)}</time>: ${plural(p.diagnostics.length, 'problem')}. ${kept(p)}</p>
      <ul aria-label=${`Problems in ${p.file}`}>${p.diagnostics.map((d) => html`<li><code>${d.file}:${d.line}:${d.column}</code> ${d.message}</li>`)}</ul>
    </li>`)}</ul>`}
  </section>`;
}

export function Workflows() {
  const [list, setList] = useState(null);
  const [problems, setProblems] = useState([]);
  const [error, setError] = useState('');
  const load = () => api('GET', '/api/v1/workflows').then((r) => {
    if (!r.ok) return setError(errorText(r));
    setError('');
    setList(r.data.items);
    setProblems(r.data.load_problems || []);
  });
  useEffect(() => {
    load();
  }, []);
  return html`<h1>Workflows</h1>
    ${error && html`<${Alert}>${error}<//>`}
    ${list && html`<table class="workflows">
      <caption class="visually-hidden">Published workflows</caption>
      <thead><tr><th scope="col">Workflow</th><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Owner</th><th scope="col">Started by</th><th scope="col">Description</th><th scope="col">Digest</th></tr></thead>
      <tbody>${list.map((w) => html`<tr>
        <td><a href=${`/ui/workflows/${encodeURIComponent(w.name)}`}>${w.name}</a></td>
        <td>${w.version}${w.versions > 1 ? html` <span class="muted">(${w.versions} kept)</span>` : ''}</td>
        <td class=${w.validation === 'refused' ? 'refused' : ''}>${validationText(w)}</td>
        <td>${w.owner}</td><td>${(w.triggers || []).length ? w.triggers.join('; ') : html`<span class="muted">the API or the command line</span>`}</td><td>${w.description}</td><td><code>${w.sha256.slice(0, 12)}</code></td>
      </tr>`)}</tbody>
    </table>`}
    ${list && html`<${LoadProblems} problems=${problems} onRefresh=${load} />`}
    ${may('publish_workflows') && html`<${CheckWorkflow} />`}`;
}

export function WorkflowPage({ name }) {
  const [wf, setWf] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api('GET', `/api/v1/workflows/${encodeURIComponent(name)}`).then((r) => (r.ok ? setWf(r.data) : setError(errorText(r))));
  }, [name]);
  if (error) return html`<h1>Workflow ${name}</h1><${Alert}>${error}<//>`;
  if (!wf) return html`<p role="status">Loading…</p>`;
  const triggers = (wf.definition && wf.definition.triggers) || [];
  return html`<h1>Workflow ${wf.name} v${wf.version}</h1>
    <p class="meta">Owner ${wf.owner} · digest <code>${wf.sha256.slice(0, 16)}</code></p>
    ${wf.validation === 'refused' && html`<p class="refused">${validationText(wf)}. This version stays active; the Workflows page lists the problems.</p>`}
    <p>${wf.description}</p>
    <h2>Triggers</h2>
    ${triggers.length === 0 ? html`<p>Started through the API or the command line only.</p>` : html`<ul>
      ${triggers.map((t) => html`<li>${Object.entries(t).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}</li>`)}</ul>`}
    <h2>Versions</h2>
    <ul>${wf.versions.map((v) => html`<li>v${v.version} (<code>${v.sha256.slice(0, 12)}</code>)</li>`)}</ul>
    <h2>Steps</h2>
    <${StepGraph} workflow=${wf} />`;
}
