// Closed-loop load for the end-to-end benchmark (bench/e2e/run.py drives it): N clients, each
// with its own keep-alive connection, send a request, await the answer, and send the next,
// until --runs requests have been sent or --max-seconds have passed, whichever comes first
// (for a fixed duration give a large --runs and the duration as --max-seconds; then
// stopped_by_time is true). Latency is per request, from sending to the whole answer; the
// failed requests count in it too. Prints one JSON object:
//   {runs, seconds, runs_per_sec, p50_ms, p99_ms, errors, error_samples, ...}
//
//   node bench/e2e/load.mjs --target vigil|node-red --url http://127.0.0.1:PORT
//        --scenario triage|park|decide [--clients 16] [--runs 2000] [--start 0] [--max-seconds 300]
//        [--token T] [--approver-token T] [--admin-token T] [--ids-out FILE] [--ids-in FILE]
//
// Scenarios (request i carries the referral ref REF-<start+i>, so both targets see the same refs):
//   triage  vigil: POST /api/v1/runs?wait=30s {"workflow":"triage-lite","inputs":{"referral":...}},
//           counted when answered 200/201 with status "completed" and a band;
//           node-red: POST /triage {"referral":...}, counted when answered 200 with a band.
//           Also prints the bands given and a checksum of (ref, band) pairs: equal checksums
//           mean both targets gave every ref the same band.
//   park    starts triage-approval runs that park at their approval: vigil: the same start,
//           counted when answered with status "waiting" on "review"; node-red: POST /start.
//           The ids go to --ids-out, one per line.
//   decide  decides every id of --ids-in (approve for even positions, reject for odd). vigil:
//           GET /api/v1/approvals/ID/review to open the task, then POST .../decide with its
//           shown_digest (the approver's token); the decision answers once it is committed,
//           and the call after it runs on, so this then polls /metrics (the admin's token)
//           every --poll-ms until every decided run is completed. node-red: POST /decide/ID,
//           which answers once the run's call is made and the outcome known. `seconds` is from
//           the first decision sent to the last run seen completed.
// Only 127.0.0.1 is ever called.
import http from 'node:http';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

function options(argv) {
  const o = { clients: 16, runs: 2000, start: 0, 'max-seconds': 300, 'poll-ms': 10 };
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument ${argv[i]}`);
    o[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['clients', 'runs', 'start', 'max-seconds', 'poll-ms']) o[k] = Number(o[k]);
  if (!['vigil', 'node-red'].includes(o.target)) throw new Error('--target vigil|node-red');
  if (!['triage', 'park', 'decide'].includes(o.scenario)) throw new Error('--scenario triage|park|decide');
  const u = new URL(o.url);
  if (u.hostname !== '127.0.0.1') throw new Error('--url must be on 127.0.0.1');
  o.port = Number(u.port);
  return o;
}

const opt = options(process.argv.slice(2));
const deadline = performance.now() + opt['max-seconds'] * 1000;

// One request on `agent`: resolves {status, body (parsed JSON or text), ms}; never rejects.
function call(agent, method, path, { token, body, timeoutMs = 60000 } = {}) {
  return new Promise((resolve) => {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    const headers = { Accept: 'application/json' };
    if (data) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = data.length;
    }
    if (token) headers.Authorization = `Bearer ${token}`;
    const t0 = performance.now();
    const req = http.request({ host: '127.0.0.1', port: opt.port, method, path, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* left as text */ }
        resolve({ status: res.statusCode, body: parsed, ms: performance.now() - t0 });
      });
      res.on('error', (e) => resolve({ status: 0, body: String(e), ms: performance.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, body: String(e), ms: performance.now() - t0 }));
    if (data) req.write(data);
    req.end();
  });
}

function referral(i) {
  const n = opt.start + i;
  const ref = `REF-${String(n).padStart(6, '0')}`;
  const dob = `20${String(10 + (n % 8)).padStart(2, '0')}-0${1 + (n % 9)}-1${n % 10}`;
  return { ref, child: { name: `Synthetic Child ${n}`, dob } };
}

const BAND_CODE = { GREEN: 1, AMBER: 2, RED: 3 };

// What one request of the scenario is: returns {ok, ms, band?, id?, detail?}.
function scenario(agent, i, ids) {
  const v = opt.target === 'vigil';
  if (opt.scenario === 'triage' || opt.scenario === 'park') {
    const triage = opt.scenario === 'triage';
    const path = v ? '/api/v1/runs?wait=30s' : triage ? '/triage' : '/start';
    const body = v ? { workflow: triage ? 'triage-lite' : 'triage-approval', inputs: { referral: referral(i) } } : { referral: referral(i) };
    return call(agent, 'POST', path, { token: opt.token, body }).then((r) => {
      const b = r.body && typeof r.body === 'object' ? r.body : {};
      if (triage) {
        const band = v ? b.outputs && b.outputs.band : b.band;
        const ok = v ? (r.status === 200 || r.status === 201) && b.status === 'completed' && !!band : r.status === 200 && !!band;
        return { ok, ms: r.ms, band, detail: ok ? null : [r.status, r.body] };
      }
      const ok = (r.status === 200 || r.status === 201) && b.status === 'waiting' && Array.isArray(b.waiting_on) && b.waiting_on.includes('review');
      return { ok, ms: r.ms, id: b.id, detail: ok ? null : [r.status, r.body] };
    });
  }
  const id = ids[i];
  const decision = i % 2 === 0 ? 'approve' : 'reject';
  const reason = 'benchmark decision: research reviewed';
  if (!v) {
    return call(agent, 'POST', `/decide/${encodeURIComponent(id)}`, { body: { decision, reason } }).then((r) => {
      const ok = r.status === 200 && r.body && r.body.status === 'completed';
      return { ok, ms: r.ms, detail: ok ? null : [r.status, r.body] };
    });
  }
  const task = `/api/v1/approvals/${id}/review`;
  return call(agent, 'GET', task, { token: opt['approver-token'] }).then((opened) => {
    if (opened.status !== 200 || !opened.body || !opened.body.shown_digest) {
      return { ok: false, ms: opened.ms, detail: ['open', opened.status, opened.body] };
    }
    const body = { decision, reason, shown_digest: opened.body.shown_digest, confirmed: 'yes_flag' };
    return call(agent, 'POST', `${task}/decide`, { token: opt['approver-token'], body }).then((r) => {
      const ok = r.status === 200 && r.body && r.body.status === 'decided';
      return { ok, ms: opened.ms + r.ms, detail: ok ? null : ['decide', r.status, r.body] };
    });
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

const round = (x, places = 3) => (x === null ? null : Number(x.toFixed(places)));

async function completedRuns(agent) {
  const r = await call(agent, 'GET', '/metrics', { token: opt['admin-token'], timeoutMs: 10000 });
  const m = typeof r.body === 'string' ? r.body.match(/^vigil_runs\{status="completed"\} (\d+)/m) : null;
  return m ? Number(m[1]) : null;
}

async function main() {
  const ids = opt.scenario === 'decide' ? fs.readFileSync(opt['ids-in'], 'utf8').split('\n').filter(Boolean) : [];
  const total = opt.scenario === 'decide' ? ids.length : opt.runs;
  const pollAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const before = opt.scenario === 'decide' && opt.target === 'vigil' ? await completedRuns(pollAgent) : null;
  const latencies = [];
  const samples = [];
  const bands = {};
  const gotIds = new Array(total).fill(null);
  let errors = 0;
  let checksum = 0;
  let next = 0;
  let stoppedByTime = false;
  const t0 = performance.now();
  async function client() {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (;;) {
      if (performance.now() > deadline) {
        stoppedByTime = next < total;
        break;
      }
      const i = next++;
      if (i >= total) break;
      const r = await scenario(agent, i, ids);
      latencies.push(r.ms);
      if (!r.ok) {
        errors++;
        if (samples.length < 3) samples.push(JSON.stringify(r.detail).slice(0, 300));
        continue;
      }
      if (r.band) {
        bands[r.band] = (bands[r.band] || 0) + 1;
        checksum = (checksum + Math.imul(opt.start + i + 1, BAND_CODE[r.band] || 7)) >>> 0;
      }
      if (r.id !== undefined) gotIds[i] = r.id;
    }
    agent.destroy();
  }
  await Promise.all(Array.from({ length: Math.max(1, opt.clients) }, client));
  let tEnd = performance.now();
  const out = { target: opt.target, scenario: opt.scenario, clients: opt.clients };
  if (opt.scenario === 'decide' && opt.target === 'vigil') {
    // The decided runs' last call runs after the decision's answer: wait until all completed.
    const decided = latencies.length - errors;
    const want = before === null ? null : before + decided;
    out.decisions_answered_seconds = round((tEnd - t0) / 1000);
    let seen = null;
    while (want !== null && performance.now() < deadline) {
      seen = await completedRuns(pollAgent);
      tEnd = performance.now();
      if (seen !== null && seen >= want) break;
      await new Promise((res) => setTimeout(res, opt['poll-ms']));
    }
    out.completed_seen = seen === null ? null : seen - before;
    out.poll_ms = opt['poll-ms'];
    if (want === null || seen === null || seen < want) {
      errors++;
      samples.push(`not every decided run completed in time (${seen === null ? '?' : seen - before} of ${decided})`);
    }
  }
  pollAgent.destroy();
  const seconds = (tEnd - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const done = latencies.length;
  Object.assign(out, {
    runs: done - errors,
    requested: total,
    seconds: round(seconds),
    runs_per_sec: round((done - errors) / seconds, 1),
    p50_ms: round(percentile(latencies, 0.5)),
    p99_ms: round(percentile(latencies, 0.99)),
    errors,
    error_samples: samples,
    stopped_by_time: stoppedByTime,
  });
  if (opt.scenario === 'triage') {
    out.bands = bands;
    out.band_checksum = checksum;
  }
  if (opt.scenario === 'park' && opt['ids-out']) {
    fs.writeFileSync(opt['ids-out'], gotIds.filter((x) => x !== null).join('\n') + '\n');
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(2);
});
