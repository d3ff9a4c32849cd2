// A tiny hand-written SVG line-chart writer (no dependency): axes with round ticks, one
// polyline per series, a legend. Charts are composed side by side into one document.

export interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Place these x values evenly (a ladder of concurrency levels) instead of on a linear axis. */
  categories?: readonly number[];
  /** Labelled vertical lines (e.g. where each scenario started). */
  markers?: readonly (readonly [number, string])[];
  width?: number;
  height?: number;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceStep(range: number, ticks: number): number {
  const raw = range / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function formatTick(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

/** One chart as an SVG group of the given size (origin at its top left). */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 520;
  const height = options.height ?? 340;
  const left = 64, right = 16, top = 36, bottom = 70;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const all = options.series.flatMap((series) => series.points);
  const yMax = Math.max(1e-9, ...all.map(([, y]) => y));
  const yStep = niceStep(yMax, 5);
  const yTop = Math.ceil(yMax / yStep) * yStep;
  const categories = options.categories;
  const xs = all.map(([x]) => x);
  const xMin = categories === undefined ? Math.min(0, ...xs) : 0;
  const xMax = categories === undefined ? Math.max(xMin + 1e-9, ...xs) : Math.max(1, categories.length - 1);
  const xPosition = (x: number) => {
    const value = categories === undefined ? x : Math.max(0, categories.indexOf(x));
    return left + ((value - xMin) / (xMax - xMin || 1)) * plotWidth;
  };
  const yPosition = (y: number) => top + plotHeight - (y / yTop) * plotHeight;
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(options.title)}</text>`);
  for (let y = 0; y <= yTop + yStep / 2; y += yStep) {
    const position = yPosition(y).toFixed(1);
    parts.push(`<line x1="${left}" y1="${position}" x2="${left + plotWidth}" y2="${position}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${position}" text-anchor="end" dominant-baseline="middle" font-size="11">${formatTick(y)}</text>`);
  }
  const xTicks = categories ?? (() => {
    const step = niceStep(xMax - xMin, 6);
    const ticks: number[] = [];
    for (let x = Math.ceil(xMin / step) * step; x <= xMax + 1e-9; x += step) ticks.push(x);
    return ticks;
  })();
  for (const x of xTicks) {
    parts.push(`<text x="${xPosition(x).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle" font-size="11">${formatTick(x)}</text>`);
  }
  for (const [x, label] of options.markers ?? []) {
    const position = xPosition(x);
    parts.push(`<line x1="${position.toFixed(1)}" y1="${top}" x2="${position.toFixed(1)}" y2="${top + plotHeight}" stroke="#bbb" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${(position + 3).toFixed(1)}" y="${top + 10}" font-size="10" fill="#666">${escape(label)}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${top + plotHeight}" x2="${left + plotWidth}" y2="${top + plotHeight}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#333"/>`);
  parts.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 34}" text-anchor="middle" font-size="12">${escape(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escape(options.yLabel)}</text>`);
  options.series.forEach((series, index) => {
    if (series.points.length === 0) return;
    const path = series.points.map(([x, y]) => `${xPosition(x).toFixed(1)},${yPosition(y).toFixed(1)}`).join(' ');
    const dash = series.dashed === true ? ' stroke-dasharray="5 4"' : '';
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2"${dash} points="${path}"/>`);
    if (series.points.length <= 12) {
      for (const [x, y] of series.points) parts.push(`<circle cx="${xPosition(x).toFixed(1)}" cy="${yPosition(y).toFixed(1)}" r="3" fill="${series.color}"/>`);
    }
    const legendX = left + (index % 3) * (plotWidth / 3);
    const legendY = top + plotHeight + 50 + Math.floor(index / 3) * 14;
    parts.push(`<rect x="${legendX}" y="${legendY - 8}" width="10" height="10" fill="${series.color}"/>`);
    parts.push(`<text x="${legendX + 14}" y="${legendY}" font-size="11">${escape(series.name)}</text>`);
  });
  return parts.join('\n');
}

/** Charts side by side in one SVG document. */
export function svgDocument(charts: readonly string[], width = 520, height = 340): string {
  const groups = charts.map((chart, index) => `<g transform="translate(${index * width} 0)">\n${chart}\n</g>`).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width * charts.length}" height="${height}" viewBox="0 0 ${width * charts.length} ${height}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${groups}\n</svg>\n`;
}
