// A sparkline: a small uPlot line without axes, for a tile.
import { html, useEffect, useRef } from '../vendor/htm-preact.js';
import uPlot from '../vendor/uplot.js';

/** @param {{ times: number[], values: (number | null)[], label: string }} props */
export function Spark({ times, values, label }) {
  const holder = useRef(/** @type {HTMLDivElement | null} */ (null));
  const plot = useRef(/** @type {any} */ (null));
  useEffect(() => {
    const element = holder.current;
    if (element === null) return undefined;
    const stroke = getComputedStyle(document.documentElement).getPropertyValue('--accent').trim() || '#1f5fbf';
    plot.current = new uPlot({
      width: Math.max(element.clientWidth, 120), height: 48, legend: { show: false }, cursor: { show: false },
      axes: [{ show: false }, { show: false }], scales: { x: { time: true } },
      series: [{}, { stroke, width: 1.5, fill: `${stroke}22`, spanGaps: true }],
    }, [times, values], element);
    const resized = () => plot.current?.setSize({ width: Math.max(element.clientWidth, 120), height: 48 });
    window.addEventListener('resize', resized);
    return () => {
      window.removeEventListener('resize', resized);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);
  useEffect(() => {
    plot.current?.setData([times, values]);
  }, [times, values]);
  return html`<div class="spark" ref=${holder} role="img" aria-label=${label}></div>`;
}
