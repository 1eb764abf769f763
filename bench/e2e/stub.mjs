// Loopback stand-in for the force systems that the triage-lite benchmark looks a referral up
// in; vigil and Node-RED both call this one process (bench/e2e/run.py starts it).
//
//   node bench/e2e/stub.mjs [--max-seconds 3600]
//
// Prints {"port": N} on one line once it listens on 127.0.0.1 (an ephemeral port), then
// answers, with keep-alive, small JSON that depends only on the `ref` query parameter:
//   GET /rms?ref=R        records: {system, ref, incidents: [{id, type}] (0 to 3 of them)}
//   GET /pnc?ref=R        national computer: {system, ref, markers: [...], wanted}
//   GET /education?ref=R  pupil roll: {system, ref, on_roll, attendance, exclusions}
//   GET /csc?ref=R        social care, the call made after an approval: {system, ref, case}
//   GET /stats            {requests, connections, by_path}: how many requests (other than
//                         /stats) came over how many TCP connections (every connection, a
//                         /stats caller's included): keep-alive reuse on the callers' side
// Anything else is 404; a lookup without `ref` is 400. It exits on SIGTERM or SIGINT, and by
// itself after --max-seconds so a forgotten stub never lingers.
import http from 'node:http';

const args = process.argv.slice(2);
const maxSeconds = Number(args[args.indexOf('--max-seconds') + 1] || 3600) || 3600;

// FNV-1a, 32 bits: the same answer for the same ref on every run and in every caller.
function hash(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

const INCIDENT_TYPES = ['missing-episode', 'domestic-abuse', 'criminal-exploitation', 'anti-social-behaviour'];

const systems = {
  rms(ref, h) {
    const incidents = [];
    for (let k = 0; k < h % 4; k++) {
      incidents.push({ id: `INC-${(h >>> 8) % 100000}-${k}`, type: INCIDENT_TYPES[(h >>> (4 + 2 * k)) % 4] });
    }
    return { system: 'rms', ref, incidents };
  },
  pnc(ref, h) {
    const markers = [];
    if ((h >>> 3) % 3 === 0) markers.push('violence');
    if ((h >>> 6) % 4 === 0) markers.push('weapons');
    if ((h >>> 9) % 5 === 0) markers.push('drugs');
    return { system: 'pnc', ref, markers, wanted: (h >>> 12) % 7 === 0 };
  },
  education(ref, h) {
    return { system: 'education', ref, on_roll: h % 6 !== 0, attendance: 60 + ((h >>> 4) % 41), exclusions: (h >>> 10) % 3 };
  },
  csc(ref, h) {
    return { system: 'csc', ref, case: `CSC-${h % 1000000}` };
  },
};

let requests = 0;
let connections = 0;
const byPath = {};

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer({ keepAlive: true, keepAliveTimeout: 65000 }, (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const name = url.pathname.slice(1);
  // Drain any body so the connection stays usable for the next request.
  req.resume();
  req.on('end', () => {
    if (req.method === 'GET' && name === 'stats') {
      send(res, 200, { requests, connections, by_path: byPath });
      return;
    }
    requests++;
    byPath[name] = (byPath[name] || 0) + 1;
    const system = Object.hasOwn(systems, name) ? systems[name] : null;
    if (req.method !== 'GET' || system === null) {
      send(res, 404, { error: 'not_found' });
      return;
    }
    const ref = url.searchParams.get('ref');
    if (!ref) {
      send(res, 400, { error: 'ref_required' });
      return;
    }
    send(res, 200, system(ref, hash(`${name}:${ref}`)));
  });
});
server.keepAliveTimeout = 65000;
server.headersTimeout = 70000;
server.on('connection', () => { connections++; });

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, maxSeconds * 1000).unref();
