// Models and routes: every alias with its targets, weights, strategy, fallbacks and
// context-overflow route (GET /v0/management/models), and a playground that streams an answer
// from the gateway's own /v1/chat/completions — sent with the session cookie and its CSRF token,
// which the gateway takes in place of a client key on that path — showing who answered, the
// attempts, the timings (Server-Timing) and the tokens.
import { html, useEffect, useRef, useState } from '../vendor/htm-preact.js';
import { api, csrf } from '../lib/api.js';
import { duration, number } from '../lib/format.js';

/** @param {string} header Server-Timing, e.g. `gateway;dur=0.41, upstream;dur=120.3` */
function serverTiming(header) {
  if (header === null || header === '') return [];
  return header.split(',').map((part) => {
    const [name, ...params] = part.trim().split(';');
    const dur = params.map((param) => param.trim()).find((param) => param.startsWith('dur='));
    return { name: name ?? '', ms: dur === undefined ? null : Number(dur.slice(4)) };
  });
}

/** @param {{ models: any[] }} props */
function Playground({ models }) {
  const [model, setModel] = useState(models[0]?.id ?? '');
  const [prompt, setPrompt] = useState('Say hello in five words.');
  const [answer, setAnswer] = useState('');
  const [meta, setMeta] = useState(/** @type {any} */ (null));
  const [error, setError] = useState('');
  const [running, setRunning] = useState(false);
  const abort = useRef(/** @type {AbortController | null} */ (null));
  useEffect(() => () => abort.current?.abort(), []);
  /** @param {Event} event */
  const send = async (event) => {
    event.preventDefault();
    setAnswer('');
    setError('');
    setMeta(null);
    setRunning(true);
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    let firstToken = null;
    let usage = null;
    try {
      const response = await fetch('/v1/chat/completions', {
        method: 'POST', credentials: 'same-origin', signal: controller.signal,
        headers: { 'content-type': 'application/json', 'x-switchyard-csrf': csrf() },
        body: JSON.stringify({ model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: prompt }] }),
      });
      const head = {
        status: response.status,
        id: response.headers.get('x-request-id'),
        provider: response.headers.get('x-switchyard-provider'),
        model: response.headers.get('x-switchyard-model'),
        attempts: response.headers.get('x-switchyard-attempts'),
        fallback: response.headers.get('x-switchyard-fallback'),
        timing: serverTiming(response.headers.get('server-timing') ?? ''),
      };
      setMeta({ ...head });
      if (!response.ok || response.body === null) {
        const text = await response.text();
        let message = text;
        try { message = JSON.parse(text).error?.message ?? text; } catch { /* not JSON */ }
        setError(`${response.status}: ${message}`);
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let pending = '';
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        pending += value;
        let end;
        while ((end = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, end).trim();
          pending = pending.slice(end + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') continue;
          const chunk = JSON.parse(data);
          if (chunk.error) setError(chunk.error.message ?? 'The stream failed.');
          const delta = chunk.choices?.[0]?.delta?.content;
          if (typeof delta === 'string' && delta !== '') {
            firstToken ??= performance.now() - started;
            text += delta;
            setAnswer(text);
          }
          if (chunk.usage) usage = chunk.usage;
        }
      }
      setMeta({ ...head, firstToken, total: performance.now() - started, usage });
    } catch (failure) {
      if (/** @type {Error} */ (failure).name !== 'AbortError') setError(/** @type {Error} */ (failure).message);
    } finally {
      setRunning(false);
    }
  };
  return html`
    <section class="panel" aria-labelledby="playground-title">
      <h2 id="playground-title">Playground</h2>
      <form onSubmit=${send} class="field">
        <label for="playground-model">Model or alias</label>
        <select id="playground-model" value=${model} onChange=${(/** @type {any} */ event) => setModel(event.currentTarget.value)}>
          ${models.map((entry) => html`<option value=${entry.id}>${entry.id}${entry.owned_by === 'switchyard' ? ' (alias)' : ` (${entry.owned_by})`}</option>`)}
        </select>
        <label for="playground-prompt">Prompt</label>
        <textarea id="playground-prompt" rows="3" value=${prompt} onInput=${(/** @type {any} */ event) => setPrompt(event.currentTarget.value)}></textarea>
        <div class="row">
          <button type="submit" disabled=${running || model === '' || prompt.trim() === ''}>${running ? 'Streaming…' : 'Send'}</button>
          ${running ? html`<button type="button" class="quiet" onClick=${() => abort.current?.abort()}>Stop</button>` : null}
        </div>
      </form>
      <h3>Answer</h3>
      <pre class="answer" aria-live="polite" data-testid="playground-answer">${answer}</pre>
      ${error !== '' ? html`<p role="alert" class="error">${error}</p>` : null}
      ${meta !== null ? html`
        <dl class="kv" data-testid="playground-meta">
          <dt>Status</dt><dd>${meta.status}</dd>
          <dt>Answered by</dt><dd class="mono">${meta.provider ?? '—'}${meta.model ? `:${meta.model}` : ''}${meta.fallback ? ` (fallback ${meta.fallback})` : ''}</dd>
          <dt>Attempts</dt><dd>${meta.attempts ?? '—'}</dd>
          <dt>Server timing</dt><dd>${meta.timing.length === 0 ? '—' : meta.timing.map((/** @type {any} */ entry) => `${entry.name} ${duration(entry.ms)}`).join(' · ')}</dd>
          <dt>First token</dt><dd>${duration(meta.firstToken ?? null)}</dd>
          <dt>Total</dt><dd>${duration(meta.total ?? null)}</dd>
          <dt>Tokens</dt><dd>${meta.usage ? `${number(meta.usage.prompt_tokens)} in · ${number(meta.usage.completion_tokens)} out` : '—'}</dd>
          <dt>Request id</dt><dd class="mono">${meta.id ? html`<a href=${`#/requests/${encodeURIComponent(meta.id)}`}>${meta.id}</a>` : '—'}</dd>
        </dl>` : null}
    </section>`;
}

export function Models() {
  const [data, setData] = useState(/** @type {any} */ (null));
  const [error, setError] = useState('');
  useEffect(() => {
    api('/v0/management/models').then(setData, (failure) => setError(failure.message));
  }, []);
  if (error !== '') return html`<p role="alert" class="error">${error}</p>`;
  if (data === null) return html`<p class="muted" role="status">Loading…</p>`;
  return html`
    <section class="panel" aria-labelledby="aliases-title">
      <h2 id="aliases-title">Aliases</h2>
      ${data.aliases.length === 0 ? html`<p class="muted">No aliases are configured (models: in the config); requests name provider models directly.</p>` : html`
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Alias</th><th scope="col">Strategy</th><th scope="col">Targets (weight)</th><th scope="col">Fallbacks</th><th scope="col">Context overflow</th></tr></thead>
        <tbody>${data.aliases.map((/** @type {any} */ alias) => html`
          <tr data-alias=${alias.name}>
            <td class="mono">${alias.name}</td>
            <td>${alias.strategy}${alias.affinity !== 'none' ? html` <span class="muted">(affinity ${alias.affinity})</span>` : null}</td>
            <td><ul class="plain">${alias.targets.map((/** @type {any} */ target) => html`<li class="mono">${target.provider}:${target.model} <span class="muted">(${target.weight})</span></li>`)}</ul></td>
            <td class="mono">${alias.fallbacks.length === 0 ? '—' : alias.fallbacks.join(' → ')}</td>
            <td class="mono">${alias.on_context_overflow ?? '—'}</td>
          </tr>`)}</tbody>
      </table></div>`}
    </section>
    <${Playground} models=${data.models} />
    <section class="panel" aria-labelledby="models-title">
      <h2 id="models-title">Every model</h2>
      <p class="muted">${data.models.length} names a client may ask for: aliases, configured and discovered models.</p>
      <div class="table-wrap"><table>
        <thead><tr><th scope="col">Model</th><th scope="col">Served by</th></tr></thead>
        <tbody>${data.models.map((/** @type {any} */ entry) => html`<tr><td class="mono">${entry.id}</td><td>${entry.owned_by}</td></tr>`)}</tbody>
      </table></div>
    </section>`;
}
