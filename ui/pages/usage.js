// Usage and cost: the usage store's sums over a chosen range (GET /v0/management/usage) — totals,
// bar charts by day, model, provider and key, a table by any grouping with its totals, and the
// same table as CSV (the endpoint's format=csv over the very range the table shows).
import { html, useEffect, useState } from '../vendor/htm-preact.js';
import { api } from '../lib/api.js';
import { Bars } from '../lib/bars.js';
import { money, number } from '../lib/format.js';
import { STORAGE_OFF, storageEnabled } from '../lib/storage.js';

const DAY_MS = 86_400_000;
const RANGES = [
  { id: 'today', label: 'Today (UTC)' },
  { id: '24h', label: 'Last 24 hours' },
  { id: '7d', label: 'Last 7 days' },
  { id: '30d', label: 'Last 30 days' },
  { id: 'custom', label: 'Custom dates' },
];
const GROUPS = [
  { id: 'model', label: 'Model' },
  { id: 'provider', label: 'Provider' },
  { id: 'key', label: 'Key' },
  { id: 'team', label: 'Team' },
  { id: 'day', label: 'Day (UTC)' },
  { id: 'surface', label: 'API surface' },
];
const METRICS = [
  { id: 'cost', label: 'Cost', value: (/** @type {any} */ row) => row.cost_usd ?? 0, format: (/** @type {number} */ value) => money(value) },
  { id: 'requests', label: 'Requests', value: (/** @type {any} */ row) => row.requests, format: (/** @type {number} */ value) => number(value) },
  { id: 'tokens', label: 'Tokens', value: (/** @type {any} */ row) => row.input_tokens + row.output_tokens, format: (/** @type {number} */ value) => compact(value) },
];
const CHARTS = /** @type {const} */ (['day', 'model', 'provider', 'key']);

/** @param {number} value */
function compact(value) {
  return value.toLocaleString('en-US', { notation: 'compact', maximumFractionDigits: 1 });
}

/** @param {Date} date */
function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/**
 * The range as absolute instants, fixed when the page asks so that every query (and the CSV)
 * covers the same span.
 * @param {string} range @param {string} fromDay @param {string} toDay
 * @returns {{ from: string, to: string } | string} the span, or why the dates are wrong
 */
function windowOf(range, fromDay, toDay) {
  const now = Date.now();
  if (range === 'today') return { from: new Date(Math.floor(now / DAY_MS) * DAY_MS).toISOString(), to: new Date(now + 1).toISOString() };
  if (range === 'custom') {
    if (fromDay === '' || toDay === '') return 'Pick both dates.';
    const from = Date.parse(`${fromDay}T00:00:00Z`);
    const to = Date.parse(`${toDay}T00:00:00Z`) + DAY_MS;
    if (!(to > from)) return 'The last day must not be before the first.';
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
  }
  const days = range === '24h' ? 1 : range === '7d' ? 7 : 30;
  return { from: new Date(now - days * DAY_MS).toISOString(), to: new Date(now + 1).toISOString() };
}

/** @param {{ from: string, to: string }} span @param {string} group @param {string} [format] */
function usagePath(span, group, format) {
  const query = new URLSearchParams({ group_by: group, from: span.from, to: span.to });
  if (format !== undefined) query.set('format', format);
  return `/v0/management/usage?${query}`;
}

/** Every UTC day of the span, with the rows' values (0 for a day without requests). */
function daySeries(/** @type {any} */ answer, /** @type {(row: any) => number} */ value) {
  const byDay = new Map(answer.data.map((/** @type {any} */ row) => [row.group, row]));
  const labels = [];
  const values = [];
  const last = Date.parse(answer.to) - 1;
  for (let day = Math.floor(Date.parse(answer.from) / DAY_MS) * DAY_MS; day <= last && labels.length < 400; day += DAY_MS) {
    const key = isoDay(new Date(day));
    labels.push(key.slice(5));
    const row = byDay.get(key);
    values.push(row === undefined ? 0 : value(row));
  }
  return { labels, values };
}

/** @param {any} row @param {string} group */
function groupName(row, group) {
  if (row.group === null) return group === 'key' ? '(no key)' : group === 'team' ? '(no team)' : '(none)';
  return group === 'key' && row.name ? `${row.name}` : row.group;
}

/** @param {{ answer: any, group: string, metric: any, title: string }} props */
function Chart({ answer, group, metric, title }) {
  const { labels, values } = group === 'day'
    ? daySeries(answer, metric.value)
    : { labels: answer.data.map((/** @type {any} */ row) => groupName(row, group)), values: answer.data.map(metric.value) };
  return html`
    <section class="panel chart" aria-labelledby=${`chart-${group}`}>
      <h2 id=${`chart-${group}`}>${metric.label} by ${title}</h2>
      ${answer.data.length === 0 ? html`<p class="muted">No requests in this range.</p>`
        : html`<${Bars} key=${`${group}-${metric.id}`} labels=${labels} values=${values} format=${metric.format} testid=${`chart-${group}`}
            label=${`${metric.label} by ${title}: ${labels.map((label, index) => `${label} ${metric.format(values[index] ?? 0)}`).join(', ')}`} />`}
    </section>`;
}

/** @param {{ answer: any, group: string }} props */
function UsageTable({ answer, group }) {
  const title = GROUPS.find((entry) => entry.id === group)?.label ?? group;
  const totals = answer.totals;
  return html`
    <div class="table-wrap"><table data-testid="usage-table">
      <caption class="muted">Usage by ${title.toLowerCase()}, ${answer.from.slice(0, 16).replace('T', ' ')} to ${answer.to.slice(0, 16).replace('T', ' ')} UTC</caption>
      <thead><tr>
        <th scope="col">${title}</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Errors</th>
        <th scope="col" class="num">Input tokens</th><th scope="col" class="num">Output tokens</th><th scope="col" class="num">Cached tokens</th>
        <th scope="col" class="num">Cost</th><th scope="col" class="num">Unpriced</th>
      </tr></thead>
      <tbody>
        ${answer.data.map((/** @type {any} */ row) => html`
          <tr data-group=${row.group ?? ''}>
            <th scope="row" class="mono">${groupName(row, group)}${group === 'key' && row.name ? html` <span class="muted">${row.group}</span>` : null}</th>
            <td class="num">${number(row.requests)}</td><td class="num">${number(row.errors)}</td>
            <td class="num">${number(row.input_tokens)}</td><td class="num">${number(row.output_tokens)}</td><td class="num">${number(row.cached_tokens)}</td>
            <td class="num">${money(row.cost_usd)}</td><td class="num">${number(row.unpriced_requests)}</td>
          </tr>`)}
      </tbody>
      <tfoot><tr data-group="total">
        <th scope="row">Total</th>
        <td class="num">${number(totals.requests)}</td><td class="num">${number(totals.errors)}</td>
        <td class="num">${number(totals.input_tokens)}</td><td class="num">${number(totals.output_tokens)}</td><td class="num">${number(totals.cached_tokens)}</td>
        <td class="num">${money(totals.cost_usd)}</td><td class="num">${number(totals.unpriced_requests)}</td>
      </tr></tfoot>
    </table></div>`;
}

/** @param {{ label: string, value: string, detail?: string, testid: string }} props */
function Total({ label, value, detail, testid }) {
  return html`
    <section class="tile" aria-label=${label} data-testid=${testid}>
      <div class="label">${label}</div>
      <div class="value">${value}</div>
      ${detail !== undefined ? html`<div class="detail">${detail}</div>` : null}
    </section>`;
}

export function Usage() {
  const today = isoDay(new Date());
  const [range, setRange] = useState('7d');
  const [fromDay, setFromDay] = useState(isoDay(new Date(Date.now() - 6 * DAY_MS)));
  const [toDay, setToDay] = useState(today);
  const [group, setGroup] = useState('model');
  const [metricId, setMetricId] = useState('cost');
  const [answers, setAnswers] = useState(/** @type {Record<string, any> | null} */ (null));
  const [span, setSpan] = useState(/** @type {{ from: string, to: string } | null} */ (null));
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const [asked, setAsked] = useState(0);
  const metric = METRICS.find((entry) => entry.id === metricId) ?? METRICS[0];

  useEffect(() => {
    const chosen = windowOf(range, fromDay, toDay);
    if (typeof chosen === 'string') {
      setError(chosen);
      return undefined;
    }
    const controller = new AbortController();
    const groups = [...new Set([...CHARTS, group])];
    setLoading(true);
    storageEnabled(controller.signal).then((enabled) => {
      if (!enabled) throw Object.assign(new Error(STORAGE_OFF), { status: 404 });
      return Promise.all(groups.map((name) => api(usagePath(chosen, name), { signal: controller.signal })));
    }).then((list) => {
      /** @type {Record<string, any>} */
      const byGroup = {};
      groups.forEach((name, index) => { byGroup[name] = list[index]; });
      setAnswers(byGroup);
      setSpan(chosen);
      setError('');
    }, (failure) => {
      if (failure.name === 'AbortError') return;
      setError(failure.status === 404 ? STORAGE_OFF : failure.message);
    }).finally(() => setLoading(false));
    return () => controller.abort();
  }, [range, fromDay, toDay, group, asked]);

  const table = answers?.[group];
  const totals = table?.totals;
  return html`
    <form class="filters" onSubmit=${(/** @type {Event} */ event) => { event.preventDefault(); setAsked(asked + 1); }}>
      <div class="field">
        <label for="usage-range">Range</label>
        <select id="usage-range" value=${range} onChange=${(/** @type {any} */ event) => setRange(event.currentTarget.value)}>
          ${RANGES.map((entry) => html`<option value=${entry.id}>${entry.label}</option>`)}
        </select>
      </div>
      ${range === 'custom' ? html`
        <div class="field"><label for="usage-from">First day</label>
          <input id="usage-from" type="date" value=${fromDay} max=${today} onChange=${(/** @type {any} */ event) => setFromDay(event.currentTarget.value)} /></div>
        <div class="field"><label for="usage-to">Last day</label>
          <input id="usage-to" type="date" value=${toDay} max=${today} onChange=${(/** @type {any} */ event) => setToDay(event.currentTarget.value)} /></div>` : null}
      <div class="field">
        <label for="usage-metric">Charts show</label>
        <select id="usage-metric" value=${metricId} onChange=${(/** @type {any} */ event) => setMetricId(event.currentTarget.value)}>
          ${METRICS.map((entry) => html`<option value=${entry.id}>${entry.label}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="usage-group">Table by</label>
        <select id="usage-group" value=${group} onChange=${(/** @type {any} */ event) => setGroup(event.currentTarget.value)}>
          ${GROUPS.map((entry) => html`<option value=${entry.id}>${entry.label}</option>`)}
        </select>
      </div>
      <button type="submit" class="quiet" disabled=${loading}>${loading ? 'Loading…' : 'Refresh'}</button>
      ${span !== null && table !== undefined ? html`
        <a class="button" href=${usagePath(span, group, 'csv')} download data-testid="usage-csv">Download CSV</a>` : null}
    </form>
    ${error !== '' ? html`<p role="alert" class="error">${error}</p>` : null}
    ${totals !== undefined ? html`
      <div class="tiles" aria-live="polite">
        <${Total} testid="usage-requests" label="Requests" value=${number(totals.requests)} detail=${`${number(totals.errors)} errors`} />
        <${Total} testid="usage-tokens" label="Tokens" value=${number(totals.input_tokens + totals.output_tokens)}
          detail=${`${number(totals.input_tokens)} in · ${number(totals.output_tokens)} out`} />
        <${Total} testid="usage-cost" label="Cost" value=${money(totals.cost_usd)}
          detail=${totals.unpriced_requests > 0 ? `${number(totals.unpriced_requests)} requests without a known price` : 'at the price list\'s prices'} />
        ${totals.cached_requests > 0 || totals.subscription_requests > 0 ? html`
          <${Total} testid="usage-free" label="Cached · subscription" value=${`${number(totals.cached_requests)} · ${number(totals.subscription_requests)}`}
            detail="answered from the cache · by an agent CLI's subscription" />` : null}
      </div>
      <div class="charts">
        <${Chart} answer=${answers?.day} group="day" metric=${metric} title="day (UTC)" />
        <${Chart} answer=${answers?.model} group="model" metric=${metric} title="model" />
        <${Chart} answer=${answers?.provider} group="provider" metric=${metric} title="provider" />
        <${Chart} answer=${answers?.key} group="key" metric=${metric} title="key" />
      </div>
      <section class="panel" aria-labelledby="usage-table-title">
        <h2 id="usage-table-title">Totals</h2>
        <${UsageTable} answer=${table} group=${group} />
        ${table.dropped > 0 ? html`<p class="muted">${number(table.dropped)} usage rows could not be written since the gateway started (the store was unreachable or full).</p>` : null}
      </section>` : null}`;
}
