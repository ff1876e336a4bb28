// The layering rules of functions/, checked on the source text: the domain (functions/domain) reaches storage, the
// network, images and models only through its ports, so it imports nothing of functions/ outside itself (adapters,
// api, local, vision, ...), no AWS SDK, Hono, sharp, onnxruntime or file system, only a few pure packages, and reads
// no environment (composition roots read the configuration and pass values in); and no module of
// functions/ takes part in an import cycle. Imports are found by a small scanner (comments and strings skipped),
// relative specifiers resolved as Node + TypeScript resolve them (`./x.js` -> `./x.ts`, `./dir` -> `./dir/index.ts`).

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../functions/repo-root.js';

const ROOT = repoRoot();
const FUNCTIONS = path.join(ROOT, 'functions');
const DOMAIN = path.join(FUNCTIONS, 'domain');
const SOURCE = /\.(ts|tsx|mts|cts|mjs|cjs|js)$/;

/** Packages and Node modules the domain must not import (a specifier equal to one, or below it). */
const FORBIDDEN_IN_DOMAIN = [/^@aws-sdk\//, /^aws-sdk$/, /^hono(\/|$)/, /^@hono\//, /^sharp$/, /^onnxruntime-node(\/|$)/, /^onnxruntime-/, /^(node:)?fs(\/|$)/];

/** The only packages the domain may import: pure libraries with no I/O (anything else goes behind a port). */
// node:async_hooks: AsyncLocalStorage marks background work (domain/background.ts), no I/O.
const DOMAIN_PACKAGES = ['node:crypto', 'node:async_hooks', 'yaml', 'fast-xml-parser'];

interface Import {
  specifier: string;
  /** `import type` / `export type`: erased at compile time, so no runtime edge. */
  typeOnly: boolean;
  line: number;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out.sort();
}

/**
 * The code of a file with comments blanked and string/template contents replaced by spaces (line breaks kept, so
 * line numbers hold), plus the string literals by position: import specifiers are read from there.
 */
function scan(text: string): { code: string; strings: Map<number, string> } {
  let code = '';
  const strings = new Map<number, string>();
  let i = 0;
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      code += blank(text.slice(i, stop));
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      code += blank(text.slice(i, stop));
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) {
        if (text[j] === '\\') j++;
        // Template substitutions are rare in this code base and never hold imports: skipped with the template.
        j++;
      }
      strings.set(code.length, text.slice(i + 1, j));
      code += c + blank(text.slice(i + 1, j)) + c;
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

const IMPORT_FORMS = [
  // import x from '...'; import { a } from '...'; export { a } from '...'; export * from '...'
  /\b(import|export)(\s+type)?\s+[^;'"`]*?\bfrom\s*(['"])/g,
  // import '...'
  /\bimport\s*(['"])/g,
  // import('...'), require('...')
  /\b(?:import|require)\s*\(\s*(['"])/g,
];

export function importsOf(text: string): Import[] {
  const { code, strings } = scan(text);
  const found: Import[] = [];
  for (const form of IMPORT_FORMS) {
    for (const m of code.matchAll(form)) {
      const quoteAt = m.index + m[0].length - 1;
      const specifier = strings.get(quoteAt);
      if (specifier === undefined) continue;
      const typeOnly = form === IMPORT_FORMS[0] && (m[2] !== undefined || /^(import|export)\s+type\s/.test(m[0]) || isAllTypes(m[0]));
      found.push({ specifier, typeOnly, line: code.slice(0, quoteAt).split('\n').length });
    }
  }
  return found;
}

/** `import { type A, type B } from` imports nothing at run time either. */
function isAllTypes(statement: string): boolean {
  const braces = /^(?:import|export)\s*\{([^}]*)\}\s*from/.exec(statement);
  if (!braces) return false;
  const names = braces[1].split(',').map((s) => s.trim()).filter(Boolean);
  return names.length > 0 && names.every((n) => n.startsWith('type '));
}

function resolve(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [base, base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), base.replace(/\.cjs$/, '.cts'), base.replace(/\.jsx$/, '.tsx'), `${base}.ts`, path.join(base, 'index.ts')];
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}

const rel = (file: string) => path.relative(ROOT, file);

/** Import cycles (runtime edges only), each as the files around it, from Tarjan's strongly connected components. */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('the scanner', () => {
  it('finds static, re-export, side-effect, dynamic and require imports, and skips comments and strings', () => {
    const found = importsOf(
      [
        "import a from './a.js';",
        "import type { B } from './b.js';",
        "export { c } from './c.js';",
        "import './d.js';",
        "const e = await import('./e.js');",
        "const f = require('./f.cjs');",
        "// import g from './g.js';",
        "const text = \"import h from './h.js'\";",
        "import { type I, type J } from './i.js';",
      ].join('\n'),
    );
    expect(found.map((f) => [f.specifier, f.typeOnly])).toEqual(
      expect.arrayContaining([['./a.js', false], ['./b.js', true], ['./c.js', false], ['./d.js', false], ['./e.js', false], ['./f.cjs', false], ['./i.js', true]]),
    );
    expect(found.map((f) => f.specifier)).not.toContain('./g.js');
    expect(found.map((f) => f.specifier)).not.toContain('./h.js');
  });

  it('reports a cycle, and none in a chain', () => {
    expect(importCycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]]))).toEqual([['a', 'b', 'c']]);
    expect(importCycles(new Map([['a', ['b']], ['b', ['c']], ['c', []]]))).toEqual([]);
  });
});

describe('functions/ boundaries', () => {
  const files = listSources(FUNCTIONS);
  const inDomain = (file: string) => file.startsWith(DOMAIN + path.sep);

  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some(inDomain)).toBe(true);
  });

  it('the domain imports no AWS SDK, Hono, sharp, onnxruntime or file system, and reads no process.env', () => {
    const problems: string[] = [];
    for (const file of files.filter(inDomain)) {
      const text = fs.readFileSync(file, 'utf8');
      for (const imp of importsOf(text)) {
        if (FORBIDDEN_IN_DOMAIN.some((p) => p.test(imp.specifier))) problems.push(`${rel(file)}:${imp.line} imports '${imp.specifier}'`);
      }
      const { code } = scan(text);
      code.split('\n').forEach((line, i) => {
        if (/\bprocess\s*(\.\s*env\b|\[)/.test(line)) problems.push(`${rel(file)}:${i + 1} reads process.env (read configuration in a composition root and pass the value in)`);
      });
    }
    expect(problems).toEqual([]);
  });

  it('the domain imports nothing from functions/ outside functions/domain (types included), and only pure packages', () => {
    // The domain is the innermost layer: adapters, api, local, vision, ingest, trainer, ... depend on it, never the
    // reverse (a port in functions/domain/ports.ts is how it reaches them). No module outside it holds types the
    // domain shares, so no exception, type-only imports included. Packages: pure libraries only, named here.
    const problems: string[] = [];
    for (const file of files.filter(inDomain)) {
      for (const imp of importsOf(fs.readFileSync(file, 'utf8'))) {
        if (imp.specifier.startsWith('.')) {
          const target = resolve(file, imp.specifier) ?? path.resolve(path.dirname(file), imp.specifier);
          if (!inDomain(target)) problems.push(`${rel(file)}:${imp.line} imports ${rel(target)} (outside functions/domain: add a port to functions/domain/ports.ts)`);
        } else if (!DOMAIN_PACKAGES.includes(imp.specifier)) {
          problems.push(`${rel(file)}:${imp.line} imports the package '${imp.specifier}' (not one of the domain's pure libraries: ${DOMAIN_PACKAGES.join(', ')})`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('nor does it reach them through a module it imports from elsewhere in functions/', () => {
    const problems: string[] = [];
    const seen = new Map<string, string | undefined>();
    // The first forbidden package a module loads at run time, directly or through its imports, as a chain.
    const reaches = (file: string): string | undefined => {
      if (seen.has(file)) return seen.get(file);
      seen.set(file, undefined); // cycles end here
      let found: string | undefined;
      for (const imp of importsOf(fs.readFileSync(file, 'utf8'))) {
        if (imp.typeOnly) continue;
        if (FORBIDDEN_IN_DOMAIN.some((p) => p.test(imp.specifier))) found = `'${imp.specifier}'`;
        else {
          const target = resolve(file, imp.specifier);
          const below = target && reaches(target);
          if (below) found = `${rel(target)} -> ${below}`;
        }
        if (found) break;
      }
      seen.set(file, found);
      return found;
    };
    for (const file of files.filter(inDomain)) {
      for (const imp of importsOf(fs.readFileSync(file, 'utf8'))) {
        const target = !imp.typeOnly ? resolve(file, imp.specifier) : undefined;
        if (!target || inDomain(target)) continue;
        const chain = reaches(target);
        if (chain) problems.push(`${rel(file)}:${imp.line} -> ${rel(target)} -> ${chain}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('no module of functions/ is part of an import cycle', () => {
    const graph = new Map<string, string[]>();
    const unresolved: string[] = [];
    for (const file of files) {
      const edges: string[] = [];
      for (const imp of importsOf(fs.readFileSync(file, 'utf8'))) {
        if (!imp.specifier.startsWith('.')) continue;
        const target = resolve(file, imp.specifier);
        if (!target) unresolved.push(`${rel(file)}:${imp.line} '${imp.specifier}'`);
        else if (!imp.typeOnly) edges.push(target);
      }
      graph.set(file, edges);
    }
    expect(unresolved).toEqual([]);
    // The resolver found the tree's imports (a broken one would find no edge, and so no cycle).
    expect([...graph.values()].reduce((n, edges) => n + edges.length, 0)).toBeGreaterThan(files.length);
    expect(importCycles(graph).map((c) => c.map(rel).join(' <-> '))).toEqual([]);
  });
});
