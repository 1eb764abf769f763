// The drawing of a workflow's steps, laid out by ELK (elkjs, loaded only on the pages that
// draw), as SVG. Every step is a box naming its id and kind; on a run's page each box also
// says, in words, what became of the step, and the path taken is drawn in bold.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

const KINDS = ['uses', 'parallel', 'foreach', 'switch', 'call', 'set', 'decide', 'approval', 'wait'];

function kindOf(step) {
  return KINDS.find((k) => step[k] !== undefined) || 'step';
}

// Nodes and edges of a list of steps that follows `from` (the ids whose paths lead here).
function chain(steps, from, nodes, edges) {
  let exits = from;
  for (const step of steps || []) {
    const kind = kindOf(step);
    nodes.push({ id: step.id, kind });
    for (const f of exits) edges.push({ from: f, to: step.id });
    const lists = [];
    if (kind === 'parallel') for (const b of step.parallel) lists.push([b]);
    if (kind === 'foreach') lists.push(step.steps);
    if (kind === 'switch') {
      for (const c of step.switch.cases || []) lists.push(c.steps);
      if (step.switch.default) lists.push(step.switch.default);
    }
    if (lists.length) {
      exits = lists.flatMap((l) => chain(l, [step.id], nodes, edges));
      if (kind === 'switch' && !step.switch.default) exits.push(step.id);
    } else {
      exits = [step.id];
    }
  }
  return exits;
}

export function graphOf(definition) {
  const nodes = [];
  const edges = [];
  chain(definition.steps, [], nodes, edges);
  return { nodes, edges };
}

const W = 170;
const H = 46;

export function StepGraph({ workflow, taken, statuses }) {
  const [layout, setLayout] = useState(null);
  const [error, setError] = useState('');
  const definition = workflow.definition || { steps: [] };
  useEffect(() => {
    let live = true;
    const { nodes, edges } = graphOf(definition);
    import('elkjs/lib/elk.bundled.js')
      .then(({ default: ELK }) => new ELK().layout({
        id: 'root',
        layoutOptions: {
          'elk.algorithm': 'layered',
          'elk.direction': 'DOWN',
          'elk.spacing.nodeNode': '24',
          'elk.layered.spacing.nodeNodeBetweenLayers': '28',
        },
        children: nodes.map((n) => ({ id: n.id, width: W, height: H, kind: n.kind })),
        edges: edges.map((e, i) => ({ id: `e${i}`, sources: [e.from], targets: [e.to] })),
      }))
      .then((g) => live && setLayout({ g, nodes }))
      .catch((e) => live && setError(String(e)));
    return () => {
      live = false;
    };
  }, [workflow.sha256]);
  if (error) return html`<p class="muted">The drawing could not be laid out (${error}); the steps are listed below.</p>`;
  if (!layout) return html`<p role="status">Drawing the steps…</p>`;
  const { g, nodes } = layout;
  const kind = Object.fromEntries(nodes.map((n) => [n.id, n.kind]));
  const status = (id) => (statuses && statuses[id] ? statuses[id].status : taken ? 'not reached' : '');
  return html`<figure class="graph">
    <svg role="img" aria-labelledby="graph-title" width=${g.width + 8} height=${g.height + 8} viewBox=${`-4 -4 ${g.width + 8} ${g.height + 8}`}>
      <title id="graph-title">The steps of ${workflow.name} v${workflow.version}${taken ? ', with what became of each in this run' : ''}</title>
      <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
        <path d="M 0 0 L 10 5 L 0 10 z" /></marker></defs>
      ${(g.edges || []).map((e) => {
        const s = e.sections && e.sections[0];
        if (!s) return null;
        const pts = [s.startPoint, ...(s.bendPoints || []), s.endPoint].map((p) => `${p.x},${p.y}`).join(' ');
        const on = taken && taken.has(e.sources[0]) && taken.has(e.targets[0]);
        return html`<polyline class=${on ? 'edge taken' : 'edge'} points=${pts} marker-end="url(#arrow)" />`;
      })}
      ${g.children.map((n) => {
        const st = status(n.id);
        const on = taken && taken.has(n.id);
        return html`<g class=${`node ${on ? 'taken' : ''} ${st ? `st-${st.replace(/ /g, '-')}` : ''}`} transform=${`translate(${n.x},${n.y})`}>
          <rect width=${W} height=${H} rx="6" />
          <text x="10" y="19" class="id">${n.id}</text>
          <text x="10" y="36" class="kind">${kind[n.id]}${st ? ` · ${st}` : ''}</text>
        </g>`;
      })}
    </svg>
    <figcaption>
      <details><summary>The steps as a list</summary>
        <ol>${nodes.map((n) => html`<li>${n.id} (${n.kind})${status(n.id) ? `: ${status(n.id)}` : ''}</li>`)}</ol>
      </details>
    </figcaption>
  </figure>`;
}
