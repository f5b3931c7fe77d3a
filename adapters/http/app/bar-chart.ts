/**
 * Horizontal bar charts as server-rendered SVG, for the IG reports: no script, no style attribute (the Content
 * Security Policy allows neither), colours from the GOV.UK palette as SVG presentation attributes. Each chart is an
 * image with a title and a description; the figures themselves are in the table that follows it on the page, which
 * is what a screen reader user reads.
 */

export interface ChartSeries {
  key: string;
  label: string;
  colour: string;
}

export interface ChartRow {
  label: string;
  values: Record<string, number>;
}

/** GOV.UK colours with enough contrast against white for graphical objects (WCAG 1.4.11). */
export const CHART_COLOURS = {
  blue: '#1d70b8',
  green: '#00703c',
  red: '#d4351c',
  orange: '#b58840',
  purple: '#4c2c92',
  black: '#0b0c0c',
} as const;

const escapeXml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const LABEL_WIDTH = 220;
const BAR_AREA = 420;
const ROW_HEIGHT = 26;
const BAR_HEIGHT = 18;

/**
 * A stacked horizontal bar per row (the series one after the other), a legend under it. `id` makes the title and
 * description ids unique on the page.
 */
export function barChartSvg(id: string, title: string, series: readonly ChartSeries[], rows: readonly ChartRow[]): string {
  const total = (r: ChartRow): number => series.reduce((s, x) => s + (r.values[x.key] ?? 0), 0);
  const max = Math.max(1, ...rows.map(total));
  const legendY = rows.length * ROW_HEIGHT + 16;
  const height = legendY + 24;
  const width = LABEL_WIDTH + BAR_AREA + 60;
  const bars = rows
    .map((r, i) => {
      const y = i * ROW_HEIGHT + 4;
      let x = LABEL_WIDTH;
      const segments = series
        .map((s) => {
          const v = r.values[s.key] ?? 0;
          const w = (v / max) * BAR_AREA;
          const rect =
            v > 0
              ? `<rect x="${x.toFixed(1)}" y="${y}" width="${Math.max(w, 1).toFixed(1)}" height="${BAR_HEIGHT}" fill="${s.colour}"/>`
              : '';
          x += w;
          return rect;
        })
        .join('');
      const label = r.label.length > 30 ? `${r.label.slice(0, 29)}…` : r.label;
      return (
        `<text x="${LABEL_WIDTH - 8}" y="${y + 14}" text-anchor="end" font-size="14" fill="#0b0c0c">${escapeXml(label)}</text>` +
        segments +
        `<text x="${(x + 6).toFixed(1)}" y="${y + 14}" font-size="14" fill="#0b0c0c">${total(r)}</text>`
      );
    })
    .join('');
  let lx = LABEL_WIDTH;
  const legend = series
    .map((s) => {
      const item =
        `<rect x="${lx}" y="${legendY}" width="14" height="14" fill="${s.colour}"/>` +
        `<text x="${lx + 20}" y="${legendY + 12}" font-size="14" fill="#0b0c0c">${escapeXml(s.label)}</text>`;
      lx += 30 + s.label.length * 8;
      return item;
    })
    .join('');
  const desc = `Bar chart of ${rows.length} row${rows.length === 1 ? '' : 's'}: ${series.map((s) => s.label).join(', ')}. The table after the chart gives the figures.`;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="${id}-title ${id}-desc" width="100%" viewBox="0 0 ${width} ${height}" focusable="false" font-family="GDS Transport, arial, sans-serif">` +
    `<title id="${id}-title">${escapeXml(title)}</title><desc id="${id}-desc">${escapeXml(desc)}</desc>` +
    bars +
    legend +
    '</svg>'
  );
}
