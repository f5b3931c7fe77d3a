/**
 * Test helpers for the OpenAPI description (adapters/http/openapi.json): the operations the Express app
 * really routes, the operations the document describes, and validators for response bodies.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { Express } from 'express';

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** One operation as `METHOD /path/{param}` (OpenAPI path templating). */
export type Operation = string;

interface RouteLike {
  path: unknown;
  methods: Record<string, boolean>;
}
interface LayerLike {
  route?: RouteLike;
  handle?: { stack?: unknown };
  rawPath?: unknown;
  slash?: boolean;
}

/** `/v1/centres/:centreId/notifications` → `/v1/centres/{centreId}/notifications`. */
function template(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Walks the app's router stack (Express 5, router 2.x): every route with its methods, including those of
 * mounted routers. `_all` handlers (e.g. a 405 answer for any other method) are not operations. A route
 * whose path is not a plain string (a RegExp, an array) cannot be compared with a document and fails.
 */
export function routedOperations(app: Express): Operation[] {
  const out = new Set<Operation>();
  const walk = (stack: unknown, prefix: string): void => {
    if (!Array.isArray(stack)) throw new Error('router stack is not an array: has Express changed?');
    for (const layer of stack as LayerLike[]) {
      if (layer.route) {
        if (typeof layer.route.path !== 'string') throw new Error(`route with a non-string path: ${String(layer.route.path)}`);
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (on && method !== '_all') out.add(`${method.toUpperCase()} ${template(prefix + layer.route.path)}`);
        }
      } else if (layer.handle && Array.isArray(layer.handle.stack)) {
        const mount = layer.slash === true || layer.rawPath === undefined ? '' : layer.rawPath;
        if (typeof mount !== 'string') throw new Error(`router mounted at a non-string path (${typeof mount})`);
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  const router = (app as unknown as { router?: { stack?: unknown } }).router;
  walk(router?.stack, '');
  return [...out].sort();
}

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Every `METHOD /path` the document describes. */
export function documentedOperations(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of METHODS) if (item[m] !== undefined) out.push(`${m.toUpperCase()} ${p}`);
  }
  return out.sort();
}

type AddFormats = (ajv: Ajv2020) => Ajv2020;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

/** JSON pointer escaping of one reference token. */
const token = (s: string): string => s.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Checks real responses against the document: the status must be documented for the operation, the
 * content type must be one it lists, and a JSON body must match its schema (ajv, JSON Schema 2020-12,
 * the dialect of OpenAPI 3.1). Returns a list of problems (empty when the response conforms).
 */
export class ResponseChecker {
  private readonly ajv: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(private readonly doc: OpenApiDocument) {
    this.ajv = addFormats(new Ajv2020({ strict: true, allErrors: true }));
    this.ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components', 'security', 'tags']);
    this.ajv.addSchema(doc, 'openapi.json');
  }

  /**
   * Checks an answer against a reusable response of the document (`#/components/responses/<name>`): for
   * answers that belong to no operation, such as 405 on a known path or 431 from the HTTP parser.
   */
  checkComponent(name: string, contentType: string | null, body: unknown): string[] {
    const response = (this.doc.components?.responses as Record<string, { content?: Record<string, unknown> }> | undefined)?.[name];
    if (!response?.content) return [`components/responses/${name} is not documented`];
    const media = (contentType ?? '').split(';')[0]?.trim() ?? '';
    if (!(media in response.content)) return [`${name}: content type ${media} not documented`];
    const validate = this.ajv.getSchema(`openapi.json#/components/responses/${name}/content/${token(media)}/schema`);
    if (!validate) return [`${name}: no schema for ${media}`];
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${name}: ${e.instancePath || '(body)'} ${e.message ?? e.keyword}`);
  }

  /** `path` is the document's template, e.g. `/v1/messages/{id}`. */
  check(method: string, path: string, status: number, contentType: string | null, body: unknown): string[] {
    const op = this.doc.paths[path]?.[method.toLowerCase()] as { responses?: Record<string, unknown> } | undefined;
    if (!op) return [`${method} ${path} is not documented`];
    let pointer = `#/paths/${token(path)}/${method.toLowerCase()}/responses/${status}`;
    let response = op.responses?.[String(status)] as { $ref?: string; content?: Record<string, unknown> } | undefined;
    if (!response) return [`${method} ${path}: status ${status} is not documented`];
    if (response.$ref !== undefined) {
      pointer = response.$ref;
      const name = response.$ref.split('/').pop() ?? '';
      response = (this.doc.components?.responses as Record<string, typeof response>)[name];
    }
    const media = (contentType ?? '').split(';')[0]?.trim() ?? '';
    const content = response?.content;
    if (content === undefined) return body === undefined || body === '' ? [] : [`${method} ${path} ${status}: no body documented`];
    if (!(media in content))
      return [`${method} ${path} ${status}: content type ${media} not documented (${Object.keys(content).join(', ')})`];
    const key = `${pointer}/content/${token(media)}/schema`;
    let validate = this.cache.get(key);
    if (!validate) {
      const found = this.ajv.getSchema(`openapi.json${key}`);
      if (!found) return [`no schema at ${key}`];
      validate = found;
      this.cache.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${method} ${path} ${status}: ${e.instancePath || '(body)'} ${e.message ?? e.keyword}`);
  }
}
