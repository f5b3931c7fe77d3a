/**
 * The README's role matrix as data, the routes a running hub really has, and what an answer means in the matrix's
 * terms. See "Who may do what: the role matrix" in README.md.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Express } from 'express';
import { repoRoot } from '../../../src/config/env.js';

export const README = path.join(repoRoot, 'README.md');
export const OUTCOMES = ['ok', '401', '403', '404', 'sign-in'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface MatrixRow {
  method: string;
  /** The request's path and query, with `{placeholders}`. */
  target: string;
  /** Expected outcome per column header. */
  cells: Record<string, Outcome>;
}

export interface Matrix {
  columns: string[];
  rows: MatrixRow[];
}

const START = '<!-- role-matrix:start -->';
const END = '<!-- role-matrix:end -->';

/** Reads the one table between the marker comments; any malformed row or cell is an error naming its line. */
export function parseMatrix(markdown: string): Matrix {
  const from = markdown.indexOf(START);
  const to = markdown.indexOf(END);
  if (from < 0 || to < from) throw new Error(`README.md has no ${START} … ${END} table`);
  const lines = markdown
    .slice(from + START.length, to)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const split = (line: string): string[] => {
    if (!line.startsWith('|') || !line.endsWith('|')) throw new Error(`role matrix: not a table row: ${line}`);
    return line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  };
  const [header, rule, ...body] = lines;
  if (header === undefined || rule === undefined) throw new Error('role matrix: no header');
  const [first, ...columns] = split(header);
  if (first !== 'Request' || columns.length === 0) throw new Error('role matrix: the first column must be "Request"');
  if (new Set(columns).size !== columns.length) throw new Error('role matrix: a column header is repeated');
  const rows = body.map((line): MatrixRow => {
    const [request = '', ...cells] = split(line);
    const m = /^`(GET|POST|PUT|DELETE|PATCH) (\/\S*)`$/.exec(request);
    if (!m?.[1] || !m[2]) throw new Error(`role matrix: the request must be \`METHOD /path\`: ${line}`);
    if (cells.length !== columns.length) throw new Error(`role matrix: ${columns.length} cells expected: ${line}`);
    const out: Record<string, Outcome> = {};
    cells.forEach((c, i) => {
      if (!(OUTCOMES as readonly string[]).includes(c))
        throw new Error(`role matrix: "${c}" is not one of ${OUTCOMES.join(', ')}: ${line}`);
      out[columns[i] ?? ''] = c as Outcome;
    });
    return { method: m[1], target: m[2], cells: out };
  });
  const seen = new Set<string>();
  for (const r of rows) {
    const k = `${r.method} ${r.target}`;
    if (seen.has(k)) throw new Error(`role matrix: ${k} has two rows`);
    seen.add(k);
  }
  return { columns, rows };
}

export const readMatrix = (): Matrix => parseMatrix(readFileSync(README, 'utf8'));

/**
 * A door of the running hub: a route (`GET /v1/messages/{id}`), or something mounted whole at a path (a sub-app such
 * as the queue dashboard, static files), written `* /app/assets/*`.
 */
export type Door = string;

interface LayerLike {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: unknown; router?: unknown; name?: string };
  name?: string;
  rawPath?: unknown;
  slash?: boolean;
}

/**
 * Walks an Express 5 app's router stack: every route with its methods (HEAD comes with GET and is not listed),
 * routers mounted at a path included; an app or static-file handler mounted at a path is one door covering
 * everything under it. Plain middleware (authentication, body parsers, error handlers) answers no request of
 * its own and is not a door.
 */
export function doorsOf(app: Express, prefix = ''): Door[] {
  const out = new Set<Door>();
  const walk = (stack: unknown, at: string): void => {
    if (!Array.isArray(stack)) throw new Error('router stack is not an array: has Express changed?');
    for (const layer of stack as LayerLike[]) {
      const mount = layer.slash === true || layer.rawPath === undefined ? '' : layer.rawPath;
      if (layer.route) {
        if (typeof layer.route.path !== 'string') throw new Error(`route with a non-string path: ${String(layer.route.path)}`);
        for (const [method, on] of Object.entries(layer.route.methods))
          if (on && method !== '_all' && method !== 'head')
            out.add(`${method.toUpperCase()} ${(at + layer.route.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
        continue;
      }
      if (typeof mount !== 'string') throw new Error(`middleware mounted at a non-string path (${typeof mount})`);
      const handle = layer.handle;
      if (handle && Array.isArray(handle.stack)) walk(handle.stack, at + mount);
      else if (handle && (handle.router !== undefined || layer.name === 'serveStatic' || layer.name === 'mounted_app'))
        out.add(`* ${at + mount}/*`);
    }
  };
  walk((app as unknown as { router?: { stack?: unknown } }).router?.stack, prefix);
  return [...out].sort();
}

/** Does a matrix row exercise this door? `{param}` in a route matches any one path segment. */
export function rowCovers(row: MatrixRow, door: Door): boolean {
  const [method = '', template = ''] = door.split(' ');
  const requestPath = row.target.split('?')[0] ?? '';
  if (method === '*') {
    const base = template.slice(0, -2);
    return requestPath === base || requestPath.startsWith(`${base}/`);
  }
  if (method !== row.method) return false;
  const pattern = new RegExp(
    `^${template
      .split(/\{[A-Za-z0-9_]+\}/)
      .map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}$`,
  );
  return pattern.test(requestPath);
}

/** The outcome an answer is, in the matrix's terms; `path` is what was asked (for the sign-in redirect's returnTo). */
export function outcomeOf(status: number, location: string | null, asked: string): Outcome | `unexpected ${number}` {
  if (status === 401) return '401';
  if (status === 403) return '403';
  if (status === 404) return '404';
  if (status === 303 && location?.startsWith('/app/sign-in?')) {
    return location === `/app/sign-in?returnTo=${encodeURIComponent(asked)}` ? 'sign-in' : `unexpected ${status}`;
  }
  if ((status >= 200 && status < 400) || [400, 409, 413, 415, 422].includes(status)) return 'ok';
  return `unexpected ${status}`;
}
