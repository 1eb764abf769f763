// How long the workbench's inbox takes to show its first page, in Debian's headless
// Chromium driven by playwright-core, against a running `vigil serve` (started and filled
// with parked runs by inbox_bench.py, which passes the URL and an approver's token in the
// environment). Signs in once; then, after one warm-up, opens /ui/inbox REPS times, each in
// a fresh page of the same context (so the session cookie and the HTTP cache are a returning
// user's), and times in the page, from navigation start (performance.timeOrigin), the first
// row and the last row of the first page of the task table entering the DOM, and the next
// animation frame after it. The calls' own times come from the Resource Timing entries.
// Prints one JSON object. Measures only: asserts nothing about time.
//
//   VIGIL_URL=http://127.0.0.1:PORT TOKEN=... TASKS=1000 [REPS=10] node bench/ui/inbox_render.mjs
// (INBOX_BENCH_DEBUG=1 also writes each load's marks and Resource Timing entries to stderr.)
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../ui/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const URL_ = process.env.VIGIL_URL;
const TOKEN = process.env.TOKEN;
const TASKS = Number(process.env.TASKS || 0);
const RUNS = Number(process.env.RUNS || TASKS);
const REPS = Math.min(Math.max(Number(process.env.REPS || 10), 1), 100);
const PAGE_ROWS = Math.min(50, TASKS);  // the inbox asks for 50 a page
const STEP_MS = 30000;                   // no single load may take longer than this
if (!URL_ || !URL_.startsWith('http://127.0.0.1:') || !TOKEN || !(TASKS > 0)) {
  console.error('usage: VIGIL_URL=http://127.0.0.1:PORT TOKEN=... TASKS=N [RUNS=N] [REPS=10] node inbox_render.mjs');
  process.exit(2);
}

// Runs in every new document before its own scripts: watches the DOM and notes, in
// performance.now() (milliseconds since navigation start), when the task table's first row
// and its PAGE_ROWS-th row appear, and the animation frame after that.
function recorder(pageRows) {
  const marks = { firstRow: null, page: null, frame: null, status: '' };
  window.__inboxBench = marks;
  const rows = () => {
    const cap = [...document.querySelectorAll('table caption')].find((c) => c.textContent === 'Open tasks, highest priority first');
    return cap ? cap.closest('table').querySelectorAll('tbody > tr').length : 0;
  };
  const look = () => {
    const n = rows();
    const now = performance.now();
    if (n >= 1 && marks.firstRow === null) marks.firstRow = now;
    if (n >= pageRows && marks.page === null) {
      marks.page = now;
      const s = document.querySelector('p[role="status"]');
      marks.status = s ? s.textContent : '';
      requestAnimationFrame(() => {
        marks.frame = performance.now();
      });
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(look);
  observer.observe(document, { childList: true, subtree: true });
}

// What the page itself says about its load: the marks and the Resource Timing entries.
function readTimings() {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource').map((e) => ({
    path: new URL(e.name).pathname + new URL(e.name).search,
    start: e.startTime,
    end: e.responseEnd,
    queued: e.requestStart - e.startTime,
    ttfb: e.responseStart - e.requestStart,
    bytes: e.transferSize,
  }));
  return { marks: window.__inboxBench, doc_end: nav ? nav.responseEnd : null, dom_content_loaded: nav ? nav.domContentLoadedEventEnd : null, res };
}

const pct = (xs, p) => {
  const s = [...xs].filter((x) => x !== null && x !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return Math.round(s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] * 10) / 10;
};
const round = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const deadline = setTimeout(() => {
  console.error('inbox_render: took over 10 minutes; giving up');
  browser.close().finally(() => process.exit(1));
}, 600000);
let failed = false;
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  context.setDefaultTimeout(STEP_MS);
  // No request interception (it would add a trip to Node to every request): the workbench
  // loads nothing from any origin but its own (its CSP says so), here 127.0.0.1.
  await context.addInitScript(recorder, PAGE_ROWS);

  const signIn = await context.newPage();
  await signIn.goto(`${URL_}/ui/inbox`);
  await signIn.getByLabel('Your access token').fill(TOKEN);
  await signIn.getByRole('button', { name: 'Sign in' }).click();
  await signIn.getByRole('button', { name: 'Sign out' }).waitFor();
  await signIn.close();

  const samples = [];
  for (let i = 0; i <= REPS; i++) {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const wallStart = performance.now();
    await page.goto(`${URL_}/ui/inbox`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__inboxBench && window.__inboxBench.frame !== null, null, { timeout: STEP_MS, polling: 10 });
    const wall = performance.now() - wallStart;
    const t = await page.evaluate(readTimings);
    await page.close();
    if (errors.length) throw new Error(`the page reported errors: ${errors.join('; ')}`);
    const calls = t.res.filter((r) => r.path.startsWith('/api/v1/approvals?'));
    const before = calls.filter((r) => r.end <= t.marks.page);
    // Every API call the page started before its rows appeared, by path and order: its own
    // time (startTime to responseEnd). The event stream has no entry until it closes.
    const byPath = {};
    const seen = {};
    for (const r of t.res.filter((x) => x.path.startsWith('/api/') && x.start <= t.marks.page)) {
      const key = r.path.split('?')[0];
      seen[key] = (seen[key] || 0) + 1;
      byPath[`${key} #${seen[key]}`] = r.end - r.start;
    }
    const session = t.res.find((r) => r.path === '/api/v1/session');
    const app = t.res.find((r) => /\/app\.js$/.test(r.path));
    if (!/^\d+ open tasks?/.test(t.marks.status) || Number(t.marks.status.split(' ')[0]) !== TASKS) {
      throw new Error(`the status line says "${t.marks.status}", not ${TASKS} open tasks`);
    }
    if (process.env.INBOX_BENCH_DEBUG) console.error(JSON.stringify({ marks: t.marks, doc_end: t.doc_end, dcl: t.dom_content_loaded, res: t.res }));
    if (i === 0) continue;  // the warm-up
    samples.push({
      first_row: t.marks.firstRow,
      page: t.marks.page,
      frame: t.marks.frame,
      wall,
      doc_end: t.doc_end,
      app_end: app ? app.end : null,
      session_start: session ? session.start : null,
      session_end: session ? session.end : null,
      api_start: calls[0] ? calls[0].start : null,
      api_end: calls[0] ? calls[0].end : null,
      api2_start: calls[1] ? calls[1].start : null,
      api2_end: calls[1] ? calls[1].end : null,
      api: calls[0] ? calls[0].end - calls[0].start : null,
      api_ttfb: calls[0] ? calls[0].ttfb : null,
      api_bytes: calls[0] ? calls[0].bytes : null,
      api_calls: calls.length,
      api_calls_before_rows: before.length,
      api_requests: t.res.filter((x) => x.path.startsWith('/api/') && x.start <= t.marks.page).length,
      by_path: byPath,
      status: t.marks.status,
    });
  }
  const col = (k) => samples.map((s) => s[k]);
  const out = {
    tasks: TASKS,
    runs: RUNS,
    reps: samples.length,
    rows_on_first_page: PAGE_ROWS,
    // navigation start to the PAGE_ROWS-th row of the task table in the DOM
    p50_ms: pct(col('page'), 50),
    p90_ms: pct(col('page'), 90),
    max_ms: pct(col('page'), 100),
    first_row_p50_ms: pct(col('first_row'), 50),
    first_row_p90_ms: pct(col('first_row'), 90),
    next_frame_p50_ms: pct(col('frame'), 50),
    // the first GET /api/v1/approvals (Resource Timing: startTime to responseEnd)
    api_p50_ms: pct(col('api'), 50),
    api_p90_ms: pct(col('api'), 90),
    api_ttfb_p50_ms: pct(col('api_ttfb'), 50),
    api_response_bytes: samples[0].api_bytes,
    // where the time goes, p50 of each, all from navigation start
    phases_p50_ms: {
      document_received: pct(col('doc_end'), 50),
      app_js_received: pct(col('app_end'), 50),
      session_requested: pct(col('session_start'), 50),
      session_answered: pct(col('session_end'), 50),
      approvals_requested: pct(col('api_start'), 50),
      approvals_answered: pct(col('api_end'), 50),
      second_approvals_requested: pct(col('api2_start'), 50),
      second_approvals_answered: pct(col('api2_end'), 50),
      last_row: pct(col('page'), 50),
    },
    // each API call started before the rows appeared (p50 of its own time, and in how many
    // of the loads it was made)
    calls_p50_ms: Object.fromEntries(
      [...new Set(samples.flatMap((x) => Object.keys(x.by_path)))].sort().map((k) => {
        const ds = samples.map((x) => x.by_path[k]).filter((d) => d !== undefined);
        return [k, { p50: pct(ds, 50), loads: ds.length }];
      }),
    ),
    api_requests_before_rows_max: Math.max(...col('api_requests')),
    // the inbox's list calls that had completed by the frame after the rows (Resource Timing
    // has an entry only once a call is answered), and how many of them before the rows
    approvals_calls_per_load: Math.max(...col('api_calls')),
    approvals_calls_answered_before_rows: Math.max(...col('api_calls_before_rows')),
    playwright_wall_p50_ms: pct(col('wall'), 50),
    status_line: samples[0].status,
    samples_ms: col('page').map(round),
    chromium: browser.version(),
    node: process.version,
  };
  console.log(JSON.stringify(out));
} catch (e) {
  failed = true;
  console.error(`inbox_render: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
} finally {
  clearTimeout(deadline);
  await browser.close();
}
process.exit(failed ? 1 : 0);
