/**
 * Information-sharing agreements per area (issue 13 item 1): several rulebooks (`consent-rules/*.json`), each an
 * agreement with its parties, purpose and review date; the receiving local authority picks the one that applies
 * (`mappings/agreements.json`), and births no local authority covers get the default. Pure: the files are read
 * in src/config.
 */
import { ConfigError } from '../../domain/config-error.js';
import { compile } from '../../domain/json-schema.js';
import type { Route } from '../route.js';
import type { Rulebook } from './rulebook.js';

/** `mappings/agreements.json` as written. */
export interface AgreementsFile {
  $schema?: string;
  /** The agreement for births no local authority covers, and for local authorities not listed. */
  default: string;
  /** Local authority id → agreement id. */
  localAuthorities: Record<string, string>;
  /** Local authority id → trigger agreement id (`consent-rules/triggers/`, read by src/config/triggers.ts, issue 17). */
  triggers?: Record<string, string>;
}

/** The loaded agreements and which one each local authority uses. Built once at start-up. */
export interface Agreements {
  /** Every loaded agreement, by id. */
  readonly byId: ReadonlyMap<string, Rulebook>;
  readonly default: Rulebook;
  /** Local authority id → its agreement (only those that name one; the others use the default). */
  readonly byLocalAuthority: ReadonlyMap<string, Rulebook>;
}

/** What planning decides with: one rulebook for everyone (tests, older callers) or the agreements per area. */
export type AgreementChoice = Rulebook | Agreements;

const ID = '^[a-z0-9][a-z0-9-]*$';

export const agreementsSchema = {
  $id: 'https://stork.example/schemas/agreements.json',
  type: 'object',
  additionalProperties: false,
  required: ['default', 'localAuthorities'],
  properties: {
    $schema: { type: 'string' },
    default: { type: 'string', pattern: ID },
    localAuthorities: {
      type: 'object',
      propertyNames: { pattern: ID },
      additionalProperties: { type: 'string', pattern: ID },
    },
    triggers: {
      type: 'object',
      propertyNames: { pattern: ID },
      additionalProperties: { type: 'string', pattern: ID },
    },
  },
} as const;

export const validateAgreementsFile = compile<AgreementsFile>(agreementsSchema);

/**
 * Checks the choice of agreements against the loaded rulebooks and the catchments' local authorities: every
 * named agreement must be loaded, every local authority must exist, and no two files may share an id.
 * `source` names the file in messages; `rulebookSources` names each rulebook's file.
 */
export function buildAgreements(
  file: AgreementsFile,
  rulebooks: readonly { rulebook: Rulebook; source: string }[],
  localAuthorityIds: ReadonlySet<string>,
  source = 'agreements',
): Agreements {
  const problems: string[] = [];
  const byId = new Map<string, Rulebook>();
  const fileOf = new Map<string, string>();
  for (const { rulebook, source: from } of rulebooks) {
    const other = fileOf.get(rulebook.id);
    if (other !== undefined) problems.push(`${from}: field /id: agreement id "${rulebook.id}" is also the id of ${other}`);
    else {
      byId.set(rulebook.id, rulebook);
      fileOf.set(rulebook.id, from);
    }
  }
  const known = [...byId.keys()].sort().join(', ');
  const fallback = byId.get(file.default);
  if (fallback === undefined)
    problems.push(`${source}: field /default: no agreement "${file.default}" in consent-rules (loaded: ${known})`);
  const byLocalAuthority = new Map<string, Rulebook>();
  for (const [la, id] of Object.entries(file.localAuthorities)) {
    if (!localAuthorityIds.has(la)) {
      problems.push(`${source}: field /localAuthorities/${la}: no local authority "${la}" in mappings/catchments.json`);
    }
    const agreement = byId.get(id);
    if (agreement === undefined)
      problems.push(`${source}: field /localAuthorities/${la}: no agreement "${id}" in consent-rules (loaded: ${known})`);
    else byLocalAuthority.set(la, agreement);
  }
  if (problems.length > 0 || fallback === undefined) throw new ConfigError(problems.join('\n'), problems);
  return { byId, default: fallback, byLocalAuthority };
}

/** One agreement for everyone (a configuration with a single rulebook and no agreements file). */
export function singleAgreement(rulebook: Rulebook): Agreements {
  return { byId: new Map([[rulebook.id, rulebook]]), default: rulebook, byLocalAuthority: new Map() };
}

function isAgreements(choice: AgreementChoice): choice is Agreements {
  return 'byLocalAuthority' in choice;
}

/** The agreement of a local authority (undefined: none covers the birth), else the default. */
export function agreementForArea(localAuthorityId: string | undefined, choice: AgreementChoice): Rulebook {
  if (!isAgreements(choice)) return choice;
  return (localAuthorityId === undefined ? undefined : choice.byLocalAuthority.get(localAuthorityId)) ?? choice.default;
}

/** The agreement that applies to a routed birth: its receiving local authority's, else the default. One Map lookup. */
export function agreementFor(route: Route, choice: AgreementChoice): Rulebook {
  return agreementForArea(route.localAuthorityId, choice);
}

/** Every agreement of a choice. */
export function allAgreements(choice: AgreementChoice): Rulebook[] {
  return isAgreements(choice) ? [...choice.byId.values()] : [choice];
}

/** Agreements whose review date is before `today` (YYYY-MM-DD): a start-up warning, not a failure. */
export function overdueReviews<A extends { reviewDate?: string }>(agreements: readonly A[], today: string): A[] {
  return agreements.filter((a) => a.reviewDate !== undefined && a.reviewDate < today);
}
