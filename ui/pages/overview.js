// Overview: the live view (GET /v0/management/live, server-sent events) as tiles, with the last
// hour's sparklines (a point per 10 s from the gateway's sampler, extended as snapshots arrive).
import { html, useEffect, useState } from '../vendor/htm-preact.js';
import { Spark } from '../lib/spark.js';
import { duration, money, number } from '../lib/format.js';

const POINTS_MAX = 360;
const POINT_MS = 10_000;

/** @typedef {{ times: number[], rps: (number|null)[], p50: (number|null)[], tps: (number|null)[], errors: (number|null)[] }} Series */

/** @returns {Series} */
function emptySeries() {
  return { times: [], rps: [], p50: [], tps: [], errors: [] };
}

/** @param {Series} series @param {number} time @param {any} point */
function appended(series, time, point) {
  /** @param {any[]} list @param {any} value */
  const push = (list, value) => [...list.slice(-(POINTS_MAX - 1)), value];
  return {
    times: push(series.times, time / 1000),
    rps: push(series.rps, point.requests_per_second),
    p50: push(series.p50, point.latency_ms?.p50 ?? null),
    tps: push(series.tps, point.output_tokens_per_second),
    errors: push(series.errors, (point.errors?.client ?? 0) + (point.errors?.server ?? 0)),
  };
}

/** @param {{ label: string, value: string, detail?: any, children?: any, testid?: string }} props */
function Tile({ label, value, detail, children, testid }) {
  return html`
    <section class="tile" aria-label=${label} data-testid=${testid}>
      <div class="label">${label}</div>
      <div class="value">${value}</div>
      ${detail !== undefined ? html`<div class="detail">${detail}</div>` : null}
      ${children}
    </section>`;
}

export function Overview() {
  const [snapshot, setSnapshot] = useState(/** @type {any} */ (null));
  const [series, setSeries] = useState(emptySeries());
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const source = new EventSource('/v0/management/live');
    let lastPoint = 0;
    source.addEventListener('open', () => setConnected(true));
    source.addEventListener('error', () => setConnected(false));
    source.addEventListener('history', (event) => {
      const history = JSON.parse(/** @type {MessageEvent} */ (event).data);
      let next = emptySeries();
      for (const point of history.points) next = appended(next, point.time, point);
      lastPoint = history.points.length > 0 ? history.points[history.points.length - 1].time : 0;
      setSeries(next);
    });
    source.addEventListener('snapshot', (event) => {
      const data = JSON.parse(/** @type {MessageEvent} */ (event).data);
      setSnapshot(data);
      setConnected(true);
      if (data.time - lastPoint >= POINT_MS) {
        lastPoint = data.time;
        setSeries((current) => appended(current, data.time, data));
      }
    });
    return () => source.close();
  }, []);
  if (snapshot === null) return html`<p class="muted" role="status">Connecting to the live view…</p>`;
  const s = snapshot;
  return html`
    <p class="muted" role="status">${connected ? 'Live: updated every second' : 'Reconnecting…'}${s.spend_today_complete ? '' : ' (spend today still being read)'}</p>
    <h2>Now</h2>
    <div class="tiles">
      <${Tile} label="Requests per second" value=${number(s.requests_per_second, 2)} detail=${`last ${number(s.window_s, 0)} s`} testid="rps">
        <${Spark} times=${series.times} values=${series.rps} label="Requests per second, last hour" />
      <//>
      <${Tile} label="Errors" value=${number(s.errors.client + s.errors.server)}
        detail=${`${number(s.errors.client)} client (4xx) · ${number(s.errors.server)} server (5xx) · ${number(s.errors.upstream_attempts)} failed upstream attempts`} testid="errors">
        <${Spark} times=${series.times} values=${series.errors} label="Errors per 10 seconds, last hour" />
      <//>
      <${Tile} label="Latency p50 / p99" value=${`${duration(s.latency_ms.p50)} / ${duration(s.latency_ms.p99)}`} detail=${`last ${number(s.latency_window_s, 0)} s`} testid="latency">
        <${Spark} times=${series.times} values=${series.p50} label="Median latency, last hour" />
      <//>
      <${Tile} label="Gateway overhead p50 / p99" value=${`${duration(s.overhead_ms.p50)} / ${duration(s.overhead_ms.p99)}`} detail="Switchyard's own time (Server-Timing “gateway”)" testid="overhead" />
      <${Tile} label="Time to first token p50 / p99" value=${`${duration(s.ttft_ms.p50)} / ${duration(s.ttft_ms.p99)}`} detail="streamed answers" testid="ttft" />
      <${Tile} label="Output tokens per second" value=${number(s.output_tokens_per_second, 1)} testid="tps">
        <${Spark} times=${series.times} values=${series.tps} label="Output tokens per second, last hour" />
      <//>
      <${Tile} label="Spend today" value=${money(s.spend_today_usd)} detail="UTC day, at the price table's prices" testid="spend" />
      <${Tile} label="In flight" value=${`${number(s.inflight)} requests`} detail=${`${number(s.streams)} streams`} testid="inflight" />
    </div>
    <h2>Since the gateway started</h2>
    <div class="tiles">
      <${Tile} label="Requests" value=${number(s.totals.requests)} detail=${`${number(s.totals.errors.client + s.totals.errors.server)} errors`} testid="total-requests" />
      <${Tile} label="Tokens" value=${number(s.totals.tokens.input + s.totals.tokens.output)} detail=${`${number(s.totals.tokens.input)} in · ${number(s.totals.tokens.output)} out`} testid="total-tokens" />
      <${Tile} label="Cost" value=${money(s.totals.cost_usd)} testid="total-cost" />
    </div>`;
}
