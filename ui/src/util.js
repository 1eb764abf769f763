import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';

// Time left until `due` in words ("2 h 5 min left", "overdue by 12 min").
export function timeLeft(due, now) {
  const ms = Date.parse(due) - now;
  const minutes = Math.round(Math.abs(ms) / 60000);
  const text = minutes >= 1440
    ? `${Math.floor(minutes / 1440)} d ${Math.floor((minutes % 1440) / 60)} h`
    : minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`;
  return ms < 0 ? { overdue: true, text: `overdue by ${text}` } : { overdue: false, text: `${text} left` };
}

export function useNow(intervalMs = 15000) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs]);
  return now;
}

// A due time with its countdown; overdue is said in words and marked, never by colour alone.
export function Due({ due }) {
  const now = useNow();
  if (!due) return html`<span class="muted">no due time</span>`;
  const left = timeLeft(due, now);
  return html`<span class=${left.overdue ? 'due overdue' : 'due'}>
    ${left.overdue ? html`<strong>OVERDUE</strong> ` : ''}<time datetime=${due}>${formatTime(due)}</time> (${left.text})
  </span>`;
}

// An ISO-8601 text or a count of milliseconds since 1970 (as run histories record times).
export function formatTime(iso) {
  if (iso === null || iso === undefined || iso === '') return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
}

// A band (RED, AMBER, GREEN) as a labelled badge: the word is always written.
export function Band({ band }) {
  if (!band) return html`<span class="muted">none</span>`;
  return html`<span class=${`band band-${String(band).toLowerCase()}`}>${band}</span>`;
}

export function Alert({ children }) {
  return html`<div class="alert" role="alert">${children}</div>`;
}

export function Status({ children }) {
  return html`<p class="status" role="status">${children}</p>`;
}

// A value read from a run, as plain text: objects and lists as nested lists.
export function Value({ value }) {
  if (value === null || value === undefined) return html`<span class="muted">(none)</span>`;
  if (Array.isArray(value)) {
    if (value.length === 0) return html`<span class="muted">(empty list)</span>`;
    return html`<ul class="value-list">${value.map((v) => html`<li><${Value} value=${v} /></li>`)}</ul>`;
  }
  if (typeof value === 'object') {
    return html`<dl class="value-map">${Object.entries(value).map(([k, v]) => html`<dt>${k}</dt><dd><${Value} value=${v} /></dd>`)}</dl>`;
  }
  if (typeof value === 'boolean') return html`<span>${value ? 'yes' : 'no'}</span>`;
  return html`<span>${String(value)}</span>`;
}

// Why run data is being read: asked once per tab and recorded with every read.
const PURPOSE_KEY = 'vigil.purpose';
export function storedPurpose() {
  return sessionStorage.getItem(PURPOSE_KEY) || '';
}
export function storePurpose(p) {
  sessionStorage.setItem(PURPOSE_KEY, p);
}

export function PurposeForm({ purpose, onChange }) {
  const [text, setText] = useState(purpose);
  const submit = (e) => {
    e.preventDefault();
    if (text.trim().length >= 3) {
      storePurpose(text.trim());
      onChange(text.trim());
    }
  };
  return html`<form class="purpose" onSubmit=${submit}>
    <label for="purpose">Why are you reading run data? (recorded in the audit trail)</label>
    <input id="purpose" name="purpose" value=${text} minlength="3" maxlength="500" required
      onInput=${(e) => setText(e.target.value)} />
    <button type="submit">${purpose ? 'Change purpose' : 'Continue'}</button>
  </form>`;
}
