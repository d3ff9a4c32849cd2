// Providers: every provider, each key (masked) and each model on it with its health (GET
// /v0/management/providers, refreshed every 5 s); clear cooldowns (a provider's, or one target's)
// and run a connectivity test.
import { html, useEffect, useState } from '../vendor/htm-preact.js';
import { api } from '../lib/api.js';
import { dateTime, duration, number } from '../lib/format.js';

const REFRESH_MS = 5000;

/** @param {{ state: string }} props */
function State({ state }) {
  return html`<span class=${`badge ${state}`}>${state}</span>`;
}

/** @param {{ provider: any, onChanged: () => void }} props */
function ProviderPanel({ provider, onChanged }) {
  const [message, setMessage] = useState(/** @type {{ text: string, bad: boolean } | null} */ (null));
  const [busy, setBusy] = useState(false);
  const name = encodeURIComponent(provider.name);
  /** @param {any} body @param {string} what */
  const clear = (body, what) => {
    setBusy(true);
    api(`/v0/management/providers/${name}/cooldowns/clear`, { method: 'POST', body }).then((answer) => {
      setMessage({ text: `Cleared ${answer.cleared} ${answer.cleared === 1 ? 'target' : 'targets'} (${what}).`, bad: false });
      onChanged();
    }, (failure) => setMessage({ text: failure.message, bad: true })).finally(() => setBusy(false));
  };
  const test = () => {
    setBusy(true);
    setMessage({ text: 'Testing…', bad: false });
    api(`/v0/management/providers/${name}/test`, { method: 'POST', body: {} }).then((answer) => {
      setMessage(answer.ok
        ? { text: `Connected: status ${answer.status ?? '—'} in ${duration(answer.latency_ms)}${answer.models !== undefined ? `, ${answer.models} models listed` : ''}.`, bad: false }
        : { text: `Failed: ${answer.error?.message ?? answer.error ?? `status ${answer.status}`}`, bad: true });
    }, (failure) => setMessage({ text: failure.message, bad: true })).finally(() => setBusy(false));
  };
  const out = provider.keys.some((/** @type {any} */ key) => key.models.some((/** @type {any} */ model) => model.state !== 'healthy'));
  return html`
    <section class="panel" aria-labelledby=${`provider-${provider.name}`} data-provider=${provider.name}>
      <div class="panel-head">
        <h2 id=${`provider-${provider.name}`}>${provider.name} <${State} state=${provider.state} /></h2>
        <div class="row">
          <button type="button" class="quiet" disabled=${busy} onClick=${test}>Test connection</button>
          <button type="button" disabled=${busy || !out} onClick=${() => clear({}, 'all of the provider\'s')}>Clear cooldowns</button>
        </div>
      </div>
      <p class="muted">${provider.type}${provider.base_url ? html` · <span class="mono">${provider.base_url}</span>` : null}${provider.key_strategy ? ` · keys: ${provider.key_strategy}` : ''}
        ${provider.health_check ? ` · health check ${provider.health_check.ok ? 'ok' : 'failed'} at ${dateTime(provider.health_check.at)}` : ''}</p>
      ${message !== null ? html`<p role="status" class=${message.bad ? 'error' : 'ok'}>${message.text}</p>` : null}
      ${provider.keys.map((/** @type {any} */ key) => html`
        <h3>Key ${key.masked ?? '(none)'} ${key.id ? html`<span class="muted mono">${key.id}</span>` : null}</h3>
        ${key.models.length === 0 ? html`<p class="muted">No request has used this key yet.</p>` : html`
        <div class="table-wrap"><table>
          <caption class="muted">Models on key ${key.masked ?? key.index}</caption>
          <thead><tr><th scope="col">Model</th><th scope="col">State</th><th scope="col" class="num">Latency</th><th scope="col" class="num">Error rate</th>
            <th scope="col" class="num">Requests</th><th scope="col">Last error</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
          <tbody>
            ${key.models.map((/** @type {any} */ model) => html`
              <tr data-model=${model.model}>
                <td class="mono">${model.model}</td>
                <td><${State} state=${model.state} />${model.reason ? html` <span class="muted">${model.reason}</span>` : null}
                  ${model.cooldown_until && model.state !== 'healthy' ? html`<div class="muted">until ${dateTime(model.cooldown_until)}</div>` : null}</td>
                <td class="num">${duration(model.latency_ms)}</td>
                <td class="num">${model.error_rate === null || model.error_rate === undefined ? '—' : `${number(model.error_rate * 100, 1)} %`}</td>
                <td class="num">${number(model.requests)}</td>
                <td>${model.last_error ? html`<span title=${model.last_error.message}>${model.last_error.status ?? ''} ${model.last_error.class ?? ''}</span>` : '—'}</td>
                <td>${model.state !== 'healthy' ? html`<button type="button" class="quiet" disabled=${busy}
                  aria-label=${`Clear ${model.model} on key ${key.masked ?? key.index}`}
                  onClick=${() => clear({ key: key.id ?? key.index, model: model.model }, model.model)}>Clear</button>` : null}</td>
              </tr>`)}
          </tbody>
        </table></div>`}`)}
    </section>`;
}

export function Providers() {
  const [providers, setProviders] = useState(/** @type {any[] | null} */ (null));
  const [error, setError] = useState('');
  const load = () => api('/v0/management/providers').then((answer) => {
    setProviders(answer.data);
    setError('');
  }, (failure) => setError(failure.message));
  useEffect(() => {
    load();
    const timer = setInterval(load, REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  if (error !== '') return html`<p role="alert" class="error">${error}</p>`;
  if (providers === null) return html`<p class="muted" role="status">Loading…</p>`;
  if (providers.length === 0) return html`<p>No providers are configured.</p>`;
  return html`
    <p class="muted">States as this process's health book sees them, refreshed every 5 s. Keys are masked.</p>
    ${providers.map((provider) => html`<${ProviderPanel} key=${provider.name} provider=${provider} onChanged=${load} />`)}`;
}
