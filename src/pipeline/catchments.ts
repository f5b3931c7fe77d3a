/**
 * Catchments: which children's centre (family hub) reaches which postcodes, and which local authority
 * owns which postcode districts (for its unallocated inbox). Operators edit `mappings/catchments.json`;
 * this module validates it (JSON Schema, then semantic checks; src/config/catchments.ts reads the file) and builds the lookup index once, so
 * routing each message is a handful of Map lookups.
 */
import { ConfigError } from '../domain/config-error.js';
import { compile } from '../domain/json-schema.js';
import { NORMALISED_DISTRICT_PATTERN, NORMALISED_POSTCODE_PATTERN, NORMALISED_SECTOR_PATTERN } from '../domain/postcode.js';

/**
 * Where a webhook secret is read from: a file (relative to the configuration folder) or an environment variable.
 * The secret itself is never in `catchments.json`.
 */
export type WebhookSecretRef = { file: string } | { env: string };

/** A centre's webhook: its HTTPS address, its secrets (newest first, at most two while rotating) and an optional CA file. */
export interface WebhookDelivery {
  mode: 'webhook' | 'both';
  url: string;
  /** Newest first: the hub signs with each (Stork-Signature carries one `v1=` per secret), so a receiver holding either verifies. */
  secrets: WebhookSecretRef[];
  /** PEM file of the CA (or self-signed certificate) the receiver's certificate is checked against, besides the system's. */
  caFile?: string;
  /** How long the receiver's answer is awaited (default STORK_WEBHOOK_TIMEOUT_MS). */
  timeoutMs?: number;
  /** What is posted: Stork's JSON event (`json`, the default) or the item's FHIR R4 Bundle (`fhir`, application/fhir+json). */
  format?: WebhookFormat;
}

export type WebhookFormat = 'json' | 'fhir';

/**
 * How a centre receives its notifications: it pulls from its inbox (`pull`), Stork pushes each one by signed
 * webhook (`webhook`: the receiver's 2xx is the receipt and acknowledges the inbox item), or both (`both`: pushed,
 * and the inbox item stays new for the centre's staff to take on).
 */
export type CentreDelivery = { mode: 'pull' } | WebhookDelivery;

/** The centre's webhook, if it has one (`webhook` or `both`). */
export const webhookOf = (delivery: CentreDelivery): WebhookDelivery | undefined => (delivery.mode === 'pull' ? undefined : delivery);

/** A children's centre and the area it reaches, at district, sector or full-postcode level. */
export interface Centre {
  id: string;
  name: string;
  /** Postcode districts, e.g. `LS9`. */
  districts: string[];
  /** Postcode sectors, e.g. `LS9 7`. */
  sectors: string[];
  /** Full normalised postcodes, e.g. `LS9 7AB`. */
  postcodes: string[];
  delivery: CentreDelivery;
  /** Days after a notification reaches the centre by which its first contact is due (default 14, issue 15). */
  contactTargetDays?: number;
}

/** A local authority: the districts it covers pick its unallocated inbox when no centre matches. */
export interface LocalAuthority {
  id: string;
  name: string;
  districts: string[];
  centres: Centre[];
}

/** The catchments file as written by operators. */
export interface CatchmentsFile {
  localAuthorities: LocalAuthority[];
}

/** Who covers an index key. */
export interface CentreRef {
  readonly centreId: string;
  readonly localAuthorityId: string;
}

/** Loaded, checked catchments with the lookup index routing needs (built once at load time). */
export interface Catchments {
  readonly localAuthorities: readonly LocalAuthority[];
  readonly byPostcode: ReadonlyMap<string, CentreRef>;
  readonly bySector: ReadonlyMap<string, CentreRef>;
  readonly byDistrict: ReadonlyMap<string, CentreRef>;
  /** Postcode district → local authority id. */
  readonly localAuthorityByDistrict: ReadonlyMap<string, string>;
  /** Centre id → centre (with its local authority), for delivery. */
  readonly centres: ReadonlyMap<string, Centre & { localAuthorityId: string }>;
}

// The forms src/domain/postcode.ts produces, and nothing looser: a catchment entry that normalisation can
// never produce would match no family.
const DISTRICT_PATTERN = NORMALISED_DISTRICT_PATTERN;
const SECTOR_PATTERN = NORMALISED_SECTOR_PATTERN;
const POSTCODE_PATTERN = NORMALISED_POSTCODE_PATTERN;
const ID_PATTERN = '^[a-z0-9][a-z0-9-]*$';

const codeList = (pattern: string) => ({ type: 'array', items: { type: 'string', pattern }, uniqueItems: true });

/** JSON Schema for `mappings/catchments.json`: upper-case normalised postcodes, kebab-case ids, https webhooks with secrets by reference. */
export const catchmentsSchema = {
  $id: 'https://stork.example/schemas/catchments.json',
  type: 'object',
  additionalProperties: false,
  required: ['localAuthorities'],
  properties: {
    localAuthorities: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'districts', 'centres'],
        properties: {
          id: { type: 'string', pattern: ID_PATTERN },
          name: { type: 'string', minLength: 1 },
          districts: { ...codeList(DISTRICT_PATTERN), minItems: 1 },
          centres: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'name', 'districts', 'sectors', 'postcodes', 'delivery'],
              properties: {
                id: { type: 'string', pattern: ID_PATTERN },
                name: { type: 'string', minLength: 1 },
                districts: codeList(DISTRICT_PATTERN),
                sectors: codeList(SECTOR_PATTERN),
                postcodes: codeList(POSTCODE_PATTERN),
                contactTargetDays: { type: 'integer', minimum: 1, maximum: 365 },
                delivery: {
                  type: 'object',
                  required: ['mode'],
                  oneOf: [
                    {
                      type: 'object',
                      additionalProperties: false,
                      required: ['mode'],
                      properties: { mode: { const: 'pull' } },
                    },
                    {
                      type: 'object',
                      additionalProperties: false,
                      required: ['mode', 'url', 'secrets'],
                      properties: {
                        mode: { enum: ['webhook', 'both'] },
                        url: { type: 'string', format: 'uri', pattern: '^https://' },
                        secrets: {
                          type: 'array',
                          minItems: 1,
                          maxItems: 2,
                          items: {
                            oneOf: [
                              {
                                type: 'object',
                                additionalProperties: false,
                                required: ['file'],
                                properties: { file: { type: 'string', minLength: 1 } },
                              },
                              {
                                type: 'object',
                                additionalProperties: false,
                                required: ['env'],
                                properties: { env: { type: 'string', pattern: '^STORK_WEBHOOK_SECRET_[A-Z0-9_]+$' } },
                              },
                            ],
                          },
                        },
                        caFile: { type: 'string', minLength: 1 },
                        timeoutMs: { type: 'integer', minimum: 50, maximum: 300000 },
                        format: { enum: ['json', 'fhir'] },
                      },
                    },
                  ],
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

export const validateCatchmentsFile = compile<CatchmentsFile>(catchmentsSchema);

/** District of a normalised postcode or sector (`LS9 7AB` → `LS9`). */
function districtOf(code: string): string {
  const space = code.indexOf(' ');
  return space < 0 ? code : code.slice(0, space);
}

/**
 * Checks what the schema cannot (unique ids, no area claimed twice, centres inside their local authority)
 * and builds the routing index. Pure: `source` only names the file in error messages.
 */
export function buildCatchments(file: CatchmentsFile, source = 'catchments'): Catchments {
  const problems: string[] = [];
  const laIds = new Map<string, string>();
  const localAuthorityByDistrict = new Map<string, string>();
  const centres = new Map<string, Centre & { localAuthorityId: string }>();
  const centrePath = new Map<string, string>();
  const maps = { postcodes: new Map<string, CentreRef>(), sectors: new Map<string, CentreRef>(), districts: new Map<string, CentreRef>() };
  const noun = { postcodes: 'postcode', sectors: 'sector', districts: 'district' } as const;

  file.localAuthorities.forEach((la, i) => {
    const laPath = `/localAuthorities/${i}`;
    const seen = laIds.get(la.id);
    if (seen !== undefined) problems.push(`${source}: field ${laPath}/id: duplicate local authority id "${la.id}" (also at ${seen})`);
    else laIds.set(la.id, laPath);
    la.districts.forEach((d, j) => {
      const owner = localAuthorityByDistrict.get(d);
      if (owner !== undefined && owner !== la.id) {
        problems.push(
          `${source}: field ${laPath}/districts/${j}: district "${d}" is claimed by local authorities "${owner}" and "${la.id}"`,
        );
      } else localAuthorityByDistrict.set(d, la.id);
    });
    const laDistricts = new Set(la.districts);
    la.centres.forEach((c, k) => {
      const cPath = `${laPath}/centres/${k}`;
      const dup = centrePath.get(c.id);
      if (dup !== undefined) problems.push(`${source}: field ${cPath}/id: duplicate centre id "${c.id}" (also at ${dup})`);
      else {
        centrePath.set(c.id, cPath);
        centres.set(c.id, { ...c, localAuthorityId: la.id });
      }
      const ref: CentreRef = Object.freeze({ centreId: c.id, localAuthorityId: la.id });
      for (const level of ['postcodes', 'sectors', 'districts'] as const) {
        c[level].forEach((code, m) => {
          const field = `${cPath}/${level}/${m}`;
          if (!laDistricts.has(districtOf(code))) {
            problems.push(
              `${source}: field ${field}: ${noun[level]} "${code}" of centre "${c.id}" is outside the districts of local authority "${la.id}"`,
            );
          }
          const other = maps[level].get(code);
          if (other !== undefined) {
            problems.push(`${source}: field ${field}: ${noun[level]} "${code}" is claimed by centres "${other.centreId}" and "${c.id}"`);
          } else maps[level].set(code, ref);
        });
      }
    });
  });

  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return {
    localAuthorities: file.localAuthorities,
    byPostcode: maps.postcodes,
    bySector: maps.sectors,
    byDistrict: maps.districts,
    localAuthorityByDistrict,
    centres,
  };
}
