// The cost–quality scatter of an offline evaluation: one labelled point per router (x: cost as a
// share of always-strongest, y: quality as a share of always-strongest), so a router up and to the
// left of the baselines is the better one. Pure string building (the CLI writes the file); the
// bench's line charts (bench/lib/svg.ts) draw polylines, a scatter needs labelled dots.
import type { EvalResult } from './evaluate.ts';

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#7f7f7f'];

export function svgPlot(results: readonly EvalResult[], title = 'Cost and quality against always-strongest'): string {
  const width = 560, height = 400, left = 64, right = 24, top = 40, bottom = 56;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const points = results.map((result) => ({ name: result.name, cost: 1 - result.savings, quality: result.quality }));
  const yMin = Math.min(0.5, ...points.map((point) => Math.floor(point.quality * 10) / 10));
  const x = (value: number) => left + Math.min(1.1, Math.max(0, value)) / 1.1 * plotWidth;
  const y = (value: number) => top + plotHeight - ((Math.min(1.05, value) - yMin) / (1.05 - yMin)) * plotHeight;
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escape(title)}</text>`);
  for (let tick = 0; tick <= 1.0001; tick += 0.2) {
    parts.push(`<line x1="${x(tick).toFixed(1)}" y1="${top}" x2="${x(tick).toFixed(1)}" y2="${top + plotHeight}" stroke="#eee"/>`);
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle" font-size="11">${Math.round(tick * 100)}%</text>`);
  }
  for (let tick = Math.ceil(yMin * 10) / 10; tick <= 1.0001; tick += 0.1) {
    parts.push(`<line x1="${left}" y1="${y(tick).toFixed(1)}" x2="${left + plotWidth}" y2="${y(tick).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${left - 6}" y="${y(tick).toFixed(1)}" text-anchor="end" dominant-baseline="middle" font-size="11">${Math.round(tick * 100)}%</text>`);
  }
  parts.push(`<line x1="${left}" y1="${top + plotHeight}" x2="${left + plotWidth}" y2="${top + plotHeight}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#333"/>`);
  parts.push(`<text x="${left + plotWidth / 2}" y="${height - 14}" text-anchor="middle" font-size="12">cost (share of always-strongest)</text>`);
  parts.push(`<text transform="translate(16 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle" font-size="12">quality (share of always-strongest)</text>`);
  points.forEach((point, index) => {
    const color = COLORS[index % COLORS.length]!;
    const cx = x(point.cost).toFixed(1);
    const cy = y(point.quality).toFixed(1);
    parts.push(`<circle cx="${cx}" cy="${cy}" r="5" fill="${color}"/>`);
    parts.push(`<text x="${(x(point.cost) + 8).toFixed(1)}" y="${(y(point.quality) - 6).toFixed(1)}" font-size="11" fill="${color}">${escape(point.name)} (${(point.quality * 100).toFixed(0)}%, ${(point.cost * 100).toFixed(0)}%)</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
