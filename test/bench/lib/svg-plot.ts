// Hand-written SVG line chart for learning curves (log-scale label axis), so the bench needs no plotting library.

export interface Series {
  name: string;
  x: number[];
  y: number[];
}

const COLORS = ['#7f7f7f', '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];

export function learningCurveSvg(title: string, series: Series[], opts: { target?: number; yLabel?: string } = {}): string {
  const W = 760;
  const H = 480;
  const m = { left: 60, right: 170, top: 40, bottom: 50 };
  const xs = series.flatMap((s) => s.x).filter((x) => x > 0);
  const ys = series.flatMap((s) => s.y);
  const x0 = Math.log10(Math.min(...xs));
  const x1 = Math.log10(Math.max(...xs));
  const y0 = Math.max(0, Math.floor(Math.min(...ys, opts.target ?? 1) * 10) / 10);
  const y1 = 1;
  const px = (x: number) => m.left + ((Math.log10(x) - x0) / Math.max(1e-9, x1 - x0)) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0)) * (H - m.top - m.bottom);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${m.left}" y="22" font-size="15">${esc(title)}</text>`,
  ];
  for (let y = y0; y <= y1 + 1e-9; y += 0.1) {
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 8}" y="${py(y) + 4}" text-anchor="end">${(y * 100).toFixed(0)}%</text>`);
  }
  for (const t of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]) {
    if (Math.log10(t) < x0 - 1e-9 || Math.log10(t) > x1 + 1e-9) continue;
    parts.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${px(t)}" y="${H - m.bottom + 16}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">labels (log scale)</text>`);
  parts.push(`<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(opts.yLabel ?? 'test accuracy')}</text>`);
  if (opts.target !== undefined) {
    parts.push(`<line x1="${m.left}" x2="${W - m.right}" y1="${py(opts.target)}" y2="${py(opts.target)}" stroke="#000" stroke-dasharray="4 4"/>`);
    parts.push(`<text x="${m.left + 6}" y="${py(opts.target) - 5}">target ${(opts.target * 100).toFixed(1)}%</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.x.map((x, k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)},${py(s.y[k]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<rect x="${W - m.right + 10}" y="${m.top + 20 * i + 30}" width="14" height="4" fill="${color}"/>`);
    parts.push(`<text x="${W - m.right + 30}" y="${m.top + 20 * i + 36}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
