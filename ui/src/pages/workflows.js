// The catalogue: each active workflow with its versions, owner and triggers, and one
// workflow's drawing and definition.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

import { api, errorText, may } from '../api.js';
import { Alert } from '../util.js';
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

export function Workflows() {
  const [list, setList] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api('GET', '/api/v1/workflows').then((r) => (r.ok ? setList(r.data.items) : setError(errorText(r))));
  }, []);
  return html`<h1>Workflows</h1>
    ${error && html`<${Alert}>${error}<//>`}
    ${list && html`<table class="workflows">
      <caption class="visually-hidden">Published workflows</caption>
      <thead><tr><th scope="col">Workflow</th><th scope="col">Version</th><th scope="col">Owner</th><th scope="col">Description</th><th scope="col">Digest</th></tr></thead>
      <tbody>${list.map((w) => html`<tr>
        <td><a href=${`/ui/workflows/${encodeURIComponent(w.name)}`}>${w.name}</a></td>
        <td>${w.version}</td><td>${w.owner}</td><td>${w.description}</td><td><code>${w.sha256.slice(0, 12)}</code></td>
      </tr>`)}</tbody>
    </table>`}
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
    <p>${wf.description}</p>
    <h2>Triggers</h2>
    ${triggers.length === 0 ? html`<p>Started through the API or the command line only.</p>` : html`<ul>
      ${triggers.map((t) => html`<li>${Object.entries(t).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}</li>`)}</ul>`}
    <h2>Versions</h2>
    <ul>${wf.versions.map((v) => html`<li>v${v.version} (<code>${v.sha256.slice(0, 12)}</code>)</li>`)}</ul>
    <h2>Steps</h2>
    <${StepGraph} workflow=${wf} />`;
}
