/**
 * The matcher's public API for people (mothers): a person becomes a generic record with the five
 * fields the production model compares, prepared once per object (cached), then scored by the engine.
 * The matcher never sees NHS numbers: the caller matches on those first.
 */
import { boundedKey } from '../domain/bounded-key.js';
import { compileModel, prepareRecord, recordKeys, scorePrepared, type PreparedRecord } from './engine.js';
import type { Contribution, LinkageModel, LinkRecord, MatchBand, Score } from './model.js';

export interface PersonForMatching {
  familyName?: string;
  givenNames?: string[];
  /** YYYY-MM-DD */
  birthDate?: string;
  /** UK, normalised `LS1 4AP` */
  postcode?: string;
  phone?: string;
}

export const MATCH_FIELDS = ['familyName', 'givenName', 'birthDate', 'postcode', 'phone'] as const;
export type MatchField = (typeof MATCH_FIELDS)[number];
export type FieldContribution = Contribution<MatchField>;
export type { MatchBand };
export type MatchScore = Score<MatchField>;
/** The production model: a linkage model whose fields are the five MatchFields. */
export type MatchModel = LinkageModel;

export function personRecord(p: PersonForMatching): LinkRecord {
  const given = p.givenNames?.filter((g) => g.trim() !== '').join(' ');
  return {
    familyName: p.familyName,
    givenName: given === '' ? undefined : given,
    birthDate: p.birthDate,
    postcode: p.postcode,
    phone: p.phone,
  };
}

/**
 * Normalised forms per person object, so a register entry is cleaned and coded once however often it is
 * compared. Persons are treated as immutable: pass a new object when a value changes.
 */
const prepared = new WeakMap<LinkageModel, WeakMap<PersonForMatching, PreparedRecord>>();

function preparePerson(model: MatchModel, p: PersonForMatching): PreparedRecord {
  let byPerson = prepared.get(model);
  if (!byPerson) {
    byPerson = new WeakMap();
    prepared.set(model, byPerson);
  }
  let r = byPerson.get(p);
  if (!r) {
    r = prepareRecord(compileModel(model), personRecord(p));
    byPerson.set(p, r);
  }
  return r;
}

function isMatchField(f: string): f is MatchField {
  return (MATCH_FIELDS as readonly string[]).includes(f);
}

/** Scores a probe against one candidate: total weight, probability, band and each field's contribution. */
export function scorePair(model: MatchModel, probe: PersonForMatching, candidate: PersonForMatching): MatchScore {
  const score = scorePrepared(compileModel(model), preparePerson(model, probe), preparePerson(model, candidate));
  return {
    ...score,
    contributions: score.contributions.flatMap((c) => (isMatchField(c.field) ? [{ ...c, field: c.field }] : [])),
  };
}

/**
 * Stable blocking keys (`dob:19850312`, `ph:07700900123`, …); the store fetches candidates sharing at least one. A
 * key over 512 bytes (from a very long phone number or name) is its SHA-256 (boundedKey), to fit the index.
 */
export function blockingKeys(model: MatchModel, p: PersonForMatching): string[] {
  return recordKeys(compileModel(model), preparePerson(model, p)).map(boundedKey);
}

/** Scores every candidate and sorts best first (ties keep the candidates' order). */
export function rankCandidates<T extends { person: PersonForMatching }>(
  model: MatchModel,
  probe: PersonForMatching,
  candidates: readonly T[],
): { candidate: T; score: MatchScore }[] {
  return candidates
    .map((candidate, i) => ({ candidate, score: scorePair(model, probe, candidate.person), i }))
    .sort((x, y) => y.score.weight - x.score.weight || x.i - y.i)
    .map(({ candidate, score }) => ({ candidate, score }));
}
