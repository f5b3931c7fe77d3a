/**
 * A structural check of FHIR R4 (4.0.1) `AuditEvent` resources and of the `searchset` Bundle that carries them:
 * every element's type and cardinality as the R4 StructureDefinition gives them, the required value sets of
 * `action` and `outcome`, the invariant sev-1 (an entity has a name or a query, not both), FHIR JSON's own rules
 * (no unknown element, no empty string, array or object, no null), and the Bundle's bdl-1, bdl-2 and bdl-7.
 * Returns the problems, each with its path; none means valid.
 */
type Check = (v: unknown, path: string, out: string[]) => void;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const str: Check = (v, p, out) => {
  if (typeof v !== 'string' || v === '' || v.trim() !== v) out.push(`${p}: must be a non-empty string without surrounding spaces`);
};
const uri: Check = (v, p, out) => {
  if (typeof v !== 'string' || v === '' || /\s/.test(v)) out.push(`${p}: must be a uri (no whitespace)`);
};
const code: Check = (v, p, out) => {
  if (typeof v !== 'string' || !/^[^\s]+( [^\s]+)*$/.test(v)) out.push(`${p}: must be a code`);
};
const bool: Check = (v, p, out) => {
  if (typeof v !== 'boolean') out.push(`${p}: must be a boolean`);
};
const instant: Check = (v, p, out) => {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v)))
    out.push(`${p}: must be an instant (seconds and a time zone)`);
};
const base64: Check = (v, p, out) => {
  if (typeof v !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(v) || v === '')
    out.push(`${p}: must be base64Binary`);
};
const oneOf =
  (values: readonly string[]): Check =>
  (v, p, out) => {
    if (typeof v !== 'string' || !values.includes(v)) out.push(`${p}: must be one of ${values.join(', ')}`);
  };

/** An element: its children, each with a check, a minimum and whether it repeats (0..* / 1..*). */
type Field = [Check, min: 0 | 1, many: boolean];
const element =
  (fields: Record<string, Field>, invariants: ((o: Record<string, unknown>, p: string, out: string[]) => void)[] = []): Check =>
  (v, p, out) => {
    if (!isObject(v)) {
      out.push(`${p}: must be an object`);
      return;
    }
    if (Object.keys(v).length === 0) out.push(`${p}: must not be empty`);
    for (const key of Object.keys(v))
      if (!(key in fields) && key !== 'id' && key !== 'extension') out.push(`${p}.${key}: is not an element of ${p}`);
    for (const [key, [check, min, many]] of Object.entries(fields)) {
      const value = v[key];
      if (value === undefined) {
        if (min === 1) out.push(`${p}.${key}: is required (min 1)`);
        continue;
      }
      if (value === null) {
        out.push(`${p}.${key}: must not be null`);
        continue;
      }
      if (many) {
        if (!Array.isArray(value)) out.push(`${p}.${key}: must be an array (max *)`);
        else if (value.length === 0) out.push(`${p}.${key}: must not be an empty array`);
        else value.forEach((x, i) => check(x, `${p}.${key}[${i}]`, out));
      } else if (Array.isArray(value)) out.push(`${p}.${key}: must not be an array (max 1)`);
      else check(value, `${p}.${key}`, out);
    }
    for (const inv of invariants) inv(v, p, out);
  };

const coding = element({
  system: [uri, 0, false],
  version: [str, 0, false],
  code: [code, 0, false],
  display: [str, 0, false],
  userSelected: [bool, 0, false],
});
const codeableConcept = element({ coding: [coding, 0, true], text: [str, 0, false] });
const identifier = element({
  use: [oneOf(['usual', 'official', 'temp', 'secondary', 'old']), 0, false],
  type: [codeableConcept, 0, false],
  system: [uri, 0, false],
  value: [str, 0, false],
});
const reference = element({
  reference: [str, 0, false],
  type: [uri, 0, false],
  identifier: [identifier, 0, false],
  display: [str, 0, false],
});

const agent = element({
  type: [codeableConcept, 0, false],
  role: [codeableConcept, 0, true],
  who: [reference, 0, false],
  altId: [str, 0, false],
  name: [str, 0, false],
  requestor: [bool, 1, false],
  location: [reference, 0, false],
  policy: [uri, 0, true],
  media: [coding, 0, false],
  network: [element({ address: [str, 0, false], type: [oneOf(['1', '2', '3', '4', '5']), 0, false] }), 0, false],
  purposeOfUse: [codeableConcept, 0, true],
});
const source = element({ site: [str, 0, false], observer: [reference, 1, false], type: [coding, 0, true] });
const detail = element({ type: [str, 1, false], valueString: [str, 0, false], valueBase64Binary: [base64, 0, false] }, [
  (o, p, out) => {
    const n = ['valueString', 'valueBase64Binary'].filter((k) => o[k] !== undefined).length;
    if (n !== 1) out.push(`${p}: value[x] is required, exactly one of valueString, valueBase64Binary (min 1, max 1)`);
  },
]);
const entity = element(
  {
    what: [reference, 0, false],
    type: [coding, 0, false],
    role: [coding, 0, false],
    lifecycle: [coding, 0, false],
    securityLabel: [coding, 0, true],
    name: [str, 0, false],
    description: [str, 0, false],
    query: [base64, 0, false],
    detail: [detail, 0, true],
  },
  [
    (o, p, out) => {
      if (o.name !== undefined && o.query !== undefined) out.push(`${p}: sev-1: either a name or a query (not both)`);
    },
  ],
);

const auditEventCheck = element({
  resourceType: [oneOf(['AuditEvent']), 1, false],
  meta: [element({ profile: [uri, 0, true], lastUpdated: [instant, 0, false] }), 0, false],
  type: [coding, 1, false],
  subtype: [coding, 0, true],
  action: [oneOf(['C', 'R', 'U', 'D', 'E']), 0, false],
  period: [element({ start: [str, 0, false], end: [str, 0, false] }), 0, false],
  recorded: [instant, 1, false],
  outcome: [oneOf(['0', '4', '8', '12']), 0, false],
  outcomeDesc: [str, 0, false],
  purposeOfEvent: [codeableConcept, 0, true],
  agent: [agent, 1, true],
  source: [source, 1, false],
  entity: [entity, 0, true],
});

/** The problems of one AuditEvent resource; [] when it is valid R4. */
export function auditEventProblems(resource: unknown, path = 'AuditEvent'): string[] {
  const out: string[] = [];
  auditEventCheck(resource, path, out);
  if (isObject(resource) && resource.id !== undefined && (typeof resource.id !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(resource.id)))
    out.push(`${path}.id: must be an id ([A-Za-z0-9-.]{1,64})`);
  return out;
}

/** The problems of a searchset Bundle of AuditEvents (the Bundle's own rules, then every entry's resource). */
export function auditBundleProblems(bundle: unknown): string[] {
  const out: string[] = [];
  const check = element({
    resourceType: [oneOf(['Bundle']), 1, false],
    type: [oneOf(['searchset']), 1, false],
    timestamp: [instant, 0, false],
    total: [
      (v, p, o) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? undefined : o.push(`${p}: must be an unsignedInt`)),
      0,
      false,
    ],
    link: [element({ relation: [str, 1, false], url: [uri, 1, false] }), 0, true],
    entry: [
      element({
        fullUrl: [uri, 0, false],
        resource: [(v, p, o) => o.push(...auditEventProblems(v, p)), 0, false],
        search: [
          element({
            mode: [oneOf(['match', 'include', 'outcome']), 0, false],
            score: [(v, p, o) => (typeof v === 'number' ? undefined : o.push(`${p}: decimal`)), 0, false],
          }),
          0,
          false,
        ],
      }),
      0,
      true,
    ],
  });
  check(bundle, 'Bundle', out);
  if (isObject(bundle) && Array.isArray(bundle.entry)) {
    const urls = bundle.entry.map((e) => (isObject(e) ? e.fullUrl : undefined)).filter((u) => u !== undefined);
    if (new Set(urls).size !== urls.length) out.push('Bundle.entry: bdl-7: fullUrl must be unique');
  }
  return out;
}
