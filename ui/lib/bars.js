// A bar chart: uPlot with one series of bars over categories (models, providers, keys, days), the
// category names on the x axis and the values formatted as the page shows them. The chart is an
// image for a screen reader (its label); the numbers are in the page's table.
import { html, useEffect, useRef } from '../vendor/htm-preact.js';
import uPlot from '../vendor/uplot.js';

const HEIGHT = 200;
/** A category name longer than this is cut on the axis (the table has it whole). */
const LABEL_MAX = 14;

/** @param {string} text */
function short(text) {
  return text.length > LABEL_MAX ? `${text.slice(0, LABEL_MAX - 1)}…` : text;
}

/** @param {string} name */
function cssColor(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/**
 * @param {string[]} labels
 * @param {(number | null)[]} values
 * @param {(value: number) => string} format
 * @param {number} width
 */
function options(labels, values, format, width) {
  const accent = cssColor('--accent', '#1f5fbf');
  const muted = cssColor('--muted', '#5c6370');
  const border = cssColor('--border', '#d9dce1');
  const axis = { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border, width: 1 } };
  return {
    width, height: HEIGHT, legend: { show: false }, cursor: { show: false }, select: { show: false },
    scales: { x: { time: false, range: () => [-0.5, Math.max(labels.length, 1) - 0.5] }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { ...axis, grid: { show: false }, splits: () => labels.map((_label, index) => index), values: (_u, splits) => splits.map((index) => short(labels[index] ?? '')) },
      { ...axis, size: 70, values: (_u, splits) => splits.map((value) => format(value)) },
    ],
    series: [{}, { stroke: accent, fill: `${accent}99`, width: 1, paths: uPlot.paths.bars({ size: [0.6, 64] }), points: { show: false } }],
  };
}

/**
 * @param {{ labels: string[], values: (number | null)[], format: (value: number) => string, label: string, testid?: string }} props
 */
export function Bars({ labels, values, format, label, testid }) {
  const holder = useRef(/** @type {HTMLDivElement | null} */ (null));
  useEffect(() => {
    const element = holder.current;
    if (element === null) return undefined;
    const width = () => Math.max(element.clientWidth, 200);
    const plot = new uPlot(options(labels, values, format, width()), [labels.map((_label, index) => index), values], element);
    const resized = () => plot.setSize({ width: width(), height: HEIGHT });
    window.addEventListener('resize', resized);
    return () => {
      window.removeEventListener('resize', resized);
      plot.destroy();
    };
  }, [labels, values, format]);
  return html`<div class="bars" ref=${holder} role="img" aria-label=${label} data-testid=${testid}></div>`;
}
