// Requests: the latest requests this process kept (GET /v0/management/requests, with filters),
// search by request id, and one request (#/requests/<id>) with its attempt log and, when body
// capture holds them, its bodies.
import { html, useEffect, useState } from '../vendor/htm-preact.js';
import { api } from '../lib/api.js';
import { dateTime, duration, money, number } from '../lib/format.js';

/** @param {number} status */
function statusClass(status) {
  return status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'ok';
}

/** A body as capture holds it: `{ headers, body, bytes, truncated }` (JSON bodies shown indented). */
function pretty(/** @type {unknown} */ body) {
  if (typeof body !== 'string') return JSON.stringify(body, null, 2);
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** @param {{ title: string, captured: any }} props */
function Captured({ title, captured }) {
  if (captured === null || captured === undefined) return html`<h4>${title}</h4><p class="muted">Not captured.</p>`;
  const headers = captured.headers ?? {};
  return html`
    <h4>${title}</h4>
    <p class="muted">${number(captured.bytes)} bytes${captured.truncated ? ' (truncated)' : ''}</p>
    <details><summary>Headers</summary><pre>${Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\n')}</pre></details>
    <pre>${pretty(captured.body)}</pre>`;
}

/** @param {{ id: string }} props */
function RequestDetail({ id }) {
  const [request, setRequest] = useState(/** @type {any} */ (null));
  const [error, setError] = useState('');
  useEffect(() => {
    setRequest(null);
    setError('');
    api(`/v0/management/requests/${encodeURIComponent(id)}`).then(setRequest, (failure) => setError(failure.status === 404 ? `No request with id ${id} is kept (only the most recent are).` : failure.message));
  }, [id]);
  if (error !== '') return html`<p><a href="#/requests">← All requests</a></p><p role="alert" class="error">${error}</p>`;
  if (request === null) return html`<p class="muted" role="status">Loading…</p>`;
  const r = request;
  return html`
    <p><a href="#/requests">← All requests</a></p>
    <section class="panel" aria-labelledby="request-title">
      <h2 id="request-title" class="mono">${r.id}</h2>
      <dl class="kv">
        <dt>Time</dt><dd>${dateTime(r.time)}</dd>
        <dt>Request</dt><dd class="mono">${r.method} ${r.path}</dd>
        <dt>Status</dt><dd><span class=${`badge ${statusClass(r.status)}`}>${r.status}</span>${r.error ? html` <span class="error">${r.error.code}: ${r.error.message}</span>` : null}</dd>
        <dt>Model asked</dt><dd class="mono">${r.model || '—'}</dd>
        <dt>Answered by</dt><dd class="mono">${r.provider ? `${r.provider}:${r.upstream_model}` : '—'}${r.fallback ? ` (fallback ${r.fallback})` : ''}</dd>
        <dt>Key</dt><dd>${r.key ? `${r.key.name ?? r.key.id}${r.key.team ? ` (team ${r.key.team})` : ''}` : '—'}</dd>
        <dt>Attempts</dt><dd>${r.attempts} (${r.failed_attempts} failed)</dd>
        <dt>Duration</dt><dd>${duration(r.duration_ms)} · upstream headers ${duration(r.upstream_headers_ms)}${r.stream ? ` · first token ${duration(r.ttft_ms)}` : ''}</dd>
        <dt>Tokens</dt><dd>${r.tokens ? `${number(r.tokens.input)} in · ${number(r.tokens.output)} out · ${number(r.tokens.cached)} cached` : '—'}</dd>
        <dt>Cost</dt><dd>${money(r.cost_usd)}</dd>
      </dl>
      <h3>Attempts</h3>
      ${Array.isArray(r.attempt_log) && r.attempt_log.length > 0 ? html`
        <div class="table-wrap"><table>
          <thead><tr><th scope="col">#</th><th scope="col">Provider</th><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Detail</th></tr></thead>
          <tbody>${r.attempt_log.map((/** @type {any} */ attempt, /** @type {number} */ index) => html`
            <tr><td>${index + 1}</td><td>${attempt.provider ?? '—'}</td><td class="mono">${attempt.model ?? '—'}</td><td>${attempt.status ?? '—'}</td>
              <td class="muted">${attempt.error ?? attempt.outcome ?? (attempt.duration_ms !== undefined ? duration(attempt.duration_ms) : '')}</td></tr>`)}</tbody>
        </table></div>` : html`<p class="muted">No attempt reached a provider.</p>`}
      <h3>Bodies</h3>
      ${r.bodies ? html`
        <${Captured} title="Request" captured=${r.bodies.request} />
        <${Captured} title="Response" captured=${r.bodies.response} />`
        : html`<p class="muted">${r.body_capture === 'off' ? 'Body capture is off (logging.bodies in the config).' : 'The bodies of this request are no longer kept.'}</p>`}
    </section>`;
}

/** @param {{ route: { rest: string[] } }} props */
export function Requests({ route }) {
  const id = route.rest[0];
  const [filters, setFilters] = useState({ model: '', provider: '', key: '', status: '' });
  const [list, setList] = useState(/** @type {any} */ (null));
  const [error, setError] = useState('');
  const [search, setSearch] = useState('');
  const load = () => {
    const query = new URLSearchParams({ limit: '100' });
    for (const [name, value] of Object.entries(filters)) if (value !== '') query.set(name, value);
    api(`/v0/management/requests?${query}`).then((answer) => {
      setList(answer);
      setError('');
    }, (failure) => setError(failure.message));
  };
  useEffect(() => {
    if (id === undefined) load();
  }, [id, filters]);
  if (id !== undefined) return html`<${RequestDetail} id=${id} />`;
  /** @param {string} name */
  const field = (name) => (/** @type {any} */ event) => setFilters({ ...filters, [name]: event.currentTarget.value });
  return html`
    <form class="filters" role="search" onSubmit=${(/** @type {Event} */ event) => { event.preventDefault(); if (search.trim() !== '') location.hash = `#/requests/${encodeURIComponent(search.trim())}`; }}>
      <div class="field"><label for="request-id">Request id</label>
        <input id="request-id" value=${search} onInput=${(/** @type {any} */ event) => setSearch(event.currentTarget.value)} placeholder="x-request-id" /></div>
      <button type="submit">Open</button>
    </form>
    <form class="filters" aria-label="Filters" onSubmit=${(/** @type {Event} */ event) => event.preventDefault()}>
      <div class="field"><label for="filter-model">Model</label><input id="filter-model" value=${filters.model} onChange=${field('model')} /></div>
      <div class="field"><label for="filter-provider">Provider</label><input id="filter-provider" value=${filters.provider} onChange=${field('provider')} /></div>
      <div class="field"><label for="filter-key">Key</label><input id="filter-key" value=${filters.key} onChange=${field('key')} /></div>
      <div class="field"><label for="filter-status">Status</label>
        <select id="filter-status" value=${filters.status} onChange=${field('status')}>
          <option value="">any</option><option value="ok">ok</option><option value="error">error</option>
          <option value="4xx">4xx</option><option value="5xx">5xx</option><option value="429">429</option>
        </select></div>
      <button type="button" class="quiet" onClick=${load}>Refresh</button>
    </form>
    ${error !== '' ? html`<p role="alert" class="error">${error}</p>` : null}
    ${list === null ? html`<p class="muted" role="status">Loading…</p>` : html`
      <p class="muted">${list.data.length} shown · ${list.kept} kept of the last ${list.capacity}</p>
      <div class="table-wrap"><table>
        <caption class="muted">Most recent first; open one for its attempts and bodies</caption>
        <thead><tr><th scope="col">Time</th><th scope="col">Id</th><th scope="col">Status</th><th scope="col">Model asked</th><th scope="col">Answered by</th>
          <th scope="col" class="num">Attempts</th><th scope="col" class="num">Duration</th><th scope="col" class="num">Tokens</th><th scope="col" class="num">Cost</th></tr></thead>
        <tbody>${list.data.map((/** @type {any} */ r) => html`
          <tr data-request=${r.id}>
            <td>${dateTime(r.time)}</td>
            <td class="mono"><a href=${`#/requests/${encodeURIComponent(r.id)}`}>${r.id.length > 18 ? `${r.id.slice(0, 18)}…` : r.id}</a></td>
            <td><span class=${`badge ${statusClass(r.status)}`}>${r.status}</span></td>
            <td class="mono">${r.model || '—'}</td>
            <td class="mono">${r.provider ? `${r.provider}:${r.upstream_model}` : '—'}${r.fallback ? html` <span class="muted">(fallback)</span>` : null}</td>
            <td class="num">${r.attempts}</td>
            <td class="num">${duration(r.duration_ms)}</td>
            <td class="num">${r.tokens ? number(r.tokens.input + r.tokens.output) : '—'}</td>
            <td class="num">${money(r.cost_usd)}</td>
          </tr>`)}</tbody>
      </table></div>`}`;
}
