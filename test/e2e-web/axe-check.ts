// axe-core in a browser test's page: injected from node_modules (the page's context needs bypassCSP: true, as the
// app's policy refuses inline scripts), run on the whole document, and the serious and critical violations returned
// with their rule id, impact and the elements they name.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface Found {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe in the page (injected once per document) and returns the serious and critical violations. */
export async function axeViolations(page: Page): Promise<Found[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<any> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return (result.violations as any[])
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n: any) => `${n.target.join(' ')}${n.failureSummary ? ` (${n.failureSummary.replace(/\s+/g, ' ').slice(0, 160)})` : ''}`) }));
  });
}

export const describeViolations = (found: Found[]) =>
  found.map((v) => `${v.id} [${v.impact}] ${v.help}\n    ${v.targets.slice(0, 6).join('\n    ')}`).join('\n');

