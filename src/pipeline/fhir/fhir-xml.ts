/**
 * FHIR R4 XML → FHIR JSON, safely. Untrusted XML is refused before parsing when it declares a DOCTYPE (no
 * entity declarations, so no entity expansion and no external entities), when it is over the size cap, or
 * when it nests deeper than the cap; fast-xml-parser (which is bounded) then parses it, keeping order and
 * attributes, and the FHIR R4 model that `fhirpath` ships (path → type, which paths repeat) turns the
 * generic tree into FHIR JSON: arrays where the path repeats, `value` attributes as typed primitives, `_x`
 * for primitives with an id or extensions, the narrative `div` kept as XHTML text. Pure; never throws.
 */
import { XMLParser } from 'fast-xml-parser';
import r4 from 'fhirpath/fhir-context/r4';
import stu3 from 'fhirpath/fhir-context/stu3';
import { fhirIssue, type FhirIssue } from './fhir-issue.js';

export interface JsonObject {
  [key: string]: JsonValue;
}
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

export const FHIR_NS = 'http://hl7.org/fhir';
/** Deepest element nesting accepted (a FHIR message bundle needs about 20). */
export const MAX_XML_DEPTH = 64;

export type ParseResult = { ok: true; resource: JsonObject } | { ok: false; issue: FhirIssue };

type XmlNode = Record<string, XmlNode[] | string | Record<string, string> | undefined> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  // Entities are decoded here (decodeXml), in one pass: the five XML ones and character references only.
  processEntities: false,
  stopNodes: ['*.div'],
  maxNestedTags: MAX_XML_DEPTH,
});

/** The FHIR version whose model reads the XML: R4 (`$process-message`) or STU3 (NHS national event messages, NEMS). */
export type FhirVersion = 'r4' | 'stu3';

interface Model {
  path2Type: Record<string, string | { code: string } | undefined>;
  path2Repeating: Record<string, boolean | undefined>;
  definedElsewhere: Record<string, string | undefined>;
  label: string;
}
const modelOf = (m: { path2Type: unknown; path2Repeating: unknown; pathsDefinedElsewhere: unknown }, label: string): Model => ({
  path2Type: m.path2Type as Model['path2Type'],
  path2Repeating: m.path2Repeating as Model['path2Repeating'],
  definedElsewhere: m.pathsDefinedElsewhere as Model['definedElsewhere'],
  label,
});
const MODELS: Record<FhirVersion, Model> = { r4: modelOf(r4, 'R4'), stu3: modelOf(stu3, 'STU3') };
// The model of the conversion in progress: set by parseFhirXml for one synchronous conversion, then put back.
let model: Model = MODELS.r4;
const PRIMITIVE_NUMBERS = new Set(['integer', 'positiveInt', 'unsignedInt', 'decimal', 'integer64']);

const fail = (code: FhirIssue['code'], diagnostics: string, expression?: string): ParseResult => ({
  ok: false,
  issue: fhirIssue(code, diagnostics, expression, { severity: 'fatal' }),
});

/** Parses a FHIR XML resource of the given version (R4 unless told). `maxBytes` caps the input. */
export function parseFhirXml(bytes: Buffer, maxBytes: number, version: FhirVersion = 'r4'): ParseResult {
  const before = model;
  model = MODELS[version];
  try {
    return parseWithModel(bytes, maxBytes);
  } finally {
    model = before;
  }
}

function parseWithModel(bytes: Buffer, maxBytes: number): ParseResult {
  if (bytes.length > maxBytes) return fail('too-costly', `The body is ${bytes.length} bytes, over the limit of ${maxBytes} bytes`);
  const text = bytes.toString('utf8');
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text))
    return fail('security', 'A DOCTYPE or entity declaration is not accepted in FHIR XML');
  const wellFormed = checkWellFormed(text, MAX_XML_DEPTH);
  if (wellFormed !== undefined) return fail(wellFormed.code, wellFormed.message);
  let nodes: XmlNode[];
  try {
    nodes = parser.parse(text) as XmlNode[];
  } catch {
    return fail('structure', 'The XML could not be parsed');
  }
  const roots = nodes.filter((n) => elementName(n) !== undefined);
  const root = roots[0];
  if (roots.length !== 1 || !root) return fail('structure', 'The XML must hold exactly one root element');
  const name = elementName(root);
  if (name === undefined) return fail('structure', 'The XML must hold exactly one root element');
  if (root[':@']?.xmlns !== FHIR_NS) return fail('structure', `The root element must be in the FHIR namespace ${FHIR_NS}`, name);
  if (model.path2Type[name] === undefined && !Object.hasOwn(model.path2Type, `${name}.id`))
    return fail('not-supported', `${name} is not a FHIR ${model.label} resource type`, name);
  try {
    return { ok: true, resource: resource(root, name) };
  } catch (err) {
    if (err instanceof ConversionError) return fail(err.code, err.message, err.expression);
    return fail('structure', 'The XML could not be read as FHIR');
  }
}

class ConversionError extends Error {
  constructor(
    readonly code: FhirIssue['code'],
    message: string,
    readonly expression: string,
  ) {
    super(message);
  }
}

const NAME = /^[A-Za-z_][\w.:-]*/;

/**
 * Checks, without building anything and without recursion, that the text is one well-formed element tree no
 * deeper than `maxDepth`: tags balanced and matching (quoted attribute values may hold `>`), comments, CDATA
 * and processing instructions closed, only the five XML entities or character references, no text outside
 * the root. The parser's own nesting cap is the second guard.
 */
function checkWellFormed(text: string, maxDepth: number): { code: FhirIssue['code']; message: string } | undefined {
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const bad = (why: string) => ({ code: 'structure' as const, message: `Not well-formed XML: ${why}` });
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (stack.length === 0 && chunk.trim() !== '' && !(i === 0 && chunk.trim() === '\uFEFF')) return bad('text outside the root element');
    const amp = /&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.exec(chunk);
    if (amp) return bad('an entity other than the five XML ones or a character reference');
    if (lt < 0) break;
    const skipTo = (end: string, from: number): number => {
      const at = text.indexOf(end, from);
      return at < 0 ? -1 : at + end.length;
    };
    if (text.startsWith('<!--', lt) || text.startsWith('<![CDATA[', lt) || text.startsWith('<?', lt)) {
      const end = text.startsWith('<!--', lt) ? '-->' : text.startsWith('<?', lt) ? '?>' : ']]>';
      i = skipTo(end, lt + 2);
      if (i < 0) return bad(`unclosed ${end === '-->' ? 'comment' : end === '?>' ? 'processing instruction' : 'CDATA section'}`);
      continue;
    }
    const closing = text[lt + 1] === '/';
    const name = NAME.exec(text.slice(lt + (closing ? 2 : 1), lt + 200))?.[0];
    if (name === undefined) return bad('a tag without a name');
    let j = lt + (closing ? 2 : 1) + name.length;
    let quote = '';
    for (; j < text.length; j++) {
      const c = text[j];
      if (quote !== '') {
        if (c === quote) quote = '';
        else if (c === '<') return bad('< in an attribute value');
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
    }
    if (j >= text.length) return bad(`unclosed tag ${name}`);
    const tag = text.slice(lt, j + 1);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(tag))
      return bad('an entity other than the five XML ones or a character reference');
    if (closing) {
      if (stack.pop() !== name) return bad(`closing tag ${name} does not match`);
    } else if (text[j - 1] !== '/') {
      if (stack.length === 0 && ++roots > 1) return bad('more than one root element');
      stack.push(name);
      if (stack.length > maxDepth) return { code: 'too-costly', message: `The XML nests deeper than ${maxDepth} elements` };
    } else if (stack.length === 0 && ++roots > 1) return bad('more than one root element');
    i = j + 1;
  }
  if (stack.length > 0) return bad(`element ${stack[stack.length - 1] ?? ''} is not closed`);
  if (roots === 0) return bad('no root element');
  return undefined;
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the five XML entities and character references, in one pass (so `&amp;#233;` stays `&#233;`). */
function decodeXml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITIES[e] ?? '';
  });
}

function elementName(n: XmlNode): string | undefined {
  return Object.keys(n).find((k) => k !== ':@' && k !== '#text' && !k.startsWith('?'));
}

function children(n: XmlNode, name: string): XmlNode[] {
  const c = n[name];
  return Array.isArray(c) ? c : [];
}

/** The model type of an element path (the path already resolved through `pathsDefinedElsewhere`). */
function typeOf(path: string): string | undefined {
  const t = model.path2Type[path];
  return t === undefined ? undefined : typeof t === 'string' ? t : t.code;
}

const repeats = (path: string): boolean => model.path2Repeating[path] === true;

const isPrimitive = (type: string): boolean => /^[a-z]/.test(type) || type.startsWith('System.');

function primitiveValue(type: string, text: string, expression: string): JsonValue {
  if (type === 'boolean' || type === 'System.Boolean') {
    if (text === 'true') return true;
    if (text === 'false') return false;
    throw new ConversionError('value', 'A boolean must be true or false', expression);
  }
  if (PRIMITIVE_NUMBERS.has(type) || type === 'System.Integer' || type === 'System.Decimal') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new ConversionError('value', `A ${type} must be a number`, expression);
    return n;
  }
  return text;
}

function resource(node: XmlNode, name: string): JsonObject {
  const out: JsonObject = { resourceType: name };
  fill(out, node, name, name, name);
  return out;
}

/**
 * Fills `out` with the child elements of `node`. `modelPath` is the path in the model (a datatype's
 * children are looked up under the datatype's name); `expression` is the FHIRPath shown in errors.
 */
function fill(out: JsonObject, node: XmlNode, nodeName: string, modelPath: string, expression: string): void {
  const counts = new Map<string, number>();
  for (const child of children(node, nodeName)) {
    const name = elementName(child);
    if (name === undefined) {
      const text = child['#text'];
      if (typeof text === 'string' && text.trim() !== '') throw new ConversionError('structure', 'Text is not allowed here', expression);
      continue;
    }
    const written = `${modelPath}.${name}`;
    // An element defined by another (Questionnaire.item.item is a Questionnaire.item) takes that one's model.
    const childPath = model.definedElsewhere[written] ?? written;
    const index = counts.get(name) ?? 0;
    counts.set(name, index + 1);
    const childExpr = `${expression}.${name}${repeats(written) || repeats(childPath) ? `[${index}]` : ''}`;
    const type = name === 'extension' || name === 'modifierExtension' ? 'Extension' : typeOf(childPath);
    if (type === undefined) throw new ConversionError('structure', `Unknown element ${name}`, childExpr);
    add(out, name, childPath, childExpr, child, type, repeats(written) || repeats(childPath));
  }
}

function add(out: JsonObject, name: string, path: string, expression: string, node: XmlNode, type: string, many: boolean): void {
  const raw = node[':@'] ?? {};
  const attrs: Record<string, string> = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, type === 'xhtml' ? v : decodeXml(v)]));
  if (type === 'xhtml') {
    const open = Object.entries(attrs)
      // Raw as written (already escaped), so only a quote from a single-quoted value needs escaping.
      .map(([k, v]) => ` ${k}="${v.replaceAll('"', '&quot;')}"`)
      .join('');
    const inner = children(node, name)
      .map((c) => (typeof c['#text'] === 'string' ? c['#text'] : ''))
      .join('');
    out[name] = `<div${open}>${inner}</div>`;
    return;
  }
  if (isPrimitive(type)) {
    const value = attrs.value !== undefined ? primitiveValue(type, attrs.value, expression) : null;
    const extra: JsonObject = {};
    if (attrs.id !== undefined) extra.id = attrs.id;
    fill(extra, node, name, 'Element', expression);
    const hasExtra = Object.keys(extra).length > 0;
    if (value === null && !hasExtra) throw new ConversionError('required', `Element ${name} has no value and no extension`, expression);
    if (many) {
      const values = (out[name] ?? []) as JsonValue[];
      const length = values.length;
      values.push(value);
      out[name] = values;
      if (hasExtra || out[`_${name}`] !== undefined) {
        const ext = (out[`_${name}`] ?? new Array<JsonValue>(length).fill(null)) as JsonValue[];
        while (ext.length < length) ext.push(null);
        ext.push(hasExtra ? extra : null);
        out[`_${name}`] = ext;
      }
    } else {
      if (value !== null) out[name] = value;
      if (hasExtra) out[`_${name}`] = extra;
    }
    return;
  }
  let value: JsonObject;
  if (type === 'Resource') {
    const inner = children(node, name).find((c) => elementName(c) !== undefined);
    const innerName = inner ? elementName(inner) : undefined;
    if (!inner || innerName === undefined) throw new ConversionError('required', `Element ${name} holds no resource`, expression);
    value = resource(inner, innerName);
  } else {
    value = {};
    if (attrs.id !== undefined) value.id = attrs.id;
    if (type === 'Extension' && attrs.url !== undefined) value.url = attrs.url;
    const modelRoot = type === 'BackboneElement' || type === 'Element' ? path : type;
    fill(value, node, name, modelRoot, expression);
  }
  if (many) {
    const list = (out[name] ?? []) as JsonValue[];
    list.push(value);
    out[name] = list;
  } else out[name] = value;
}
