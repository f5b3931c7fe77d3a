/**
 * Matches a generated population's probes against its register through the matcher's public API (blocking
 * keys into an in-memory index, then rankCandidates), and counts the outcome per probe kind. Shared by
 * the unit test and `npm run bench:matching`.
 */
import { blockingKeys, CandidateIndex, rankCandidates, type MatchModel } from '../../../src/matching/index.js';
import type { Population, ProbeKind, RegisterEntry } from './uk-population.js';

export interface KindOutcome {
  kind: ProbeKind;
  probes: number;
  /** Best candidate is the true entry, in the match band. */
  matched: number;
  /** Best candidate is the true entry, in the review band. */
  review: number;
  /** Best candidate is a wrong entry in the match band (a false match). */
  falseMatch: number;
  /** Best candidate is a wrong entry in the review band. */
  falseReview: number;
  /** The true entry was not among the blocked candidates. */
  notBlocked: number;
  candidates: number;
}

export interface PopulationOutcome {
  byKind: KindOutcome[];
  indexMs: number;
  /** Mean time to match one probe: blocking keys, candidate lookup, scoring and ranking. */
  msPerMatch: number;
  meanCandidates: number;
  maxCandidates: number;
  /** Over all probes: true matches / predicted matches. */
  precision: number;
}

export function matchPopulation(model: MatchModel, population: Population): PopulationOutcome {
  const t0 = performance.now();
  const index = new CandidateIndex();
  for (const e of population.register) index.add(e.id, blockingKeys(model, e.person));
  const indexMs = performance.now() - t0;
  const byKind = new Map<ProbeKind, KindOutcome>();
  let maxCandidates = 0;
  let totalCandidates = 0;
  const t1 = performance.now();
  for (const probe of population.probes) {
    const ids = index.candidates(blockingKeys(model, probe.person));
    const candidates = ids.map((id) => population.register[id]).filter((e): e is RegisterEntry => e !== undefined);
    const ranked = rankCandidates(model, probe.person, candidates);
    const o = byKind.get(probe.kind) ?? {
      kind: probe.kind,
      probes: 0,
      matched: 0,
      review: 0,
      falseMatch: 0,
      falseReview: 0,
      notBlocked: 0,
      candidates: 0,
    };
    byKind.set(probe.kind, o);
    o.probes++;
    o.candidates += ids.length;
    totalCandidates += ids.length;
    maxCandidates = Math.max(maxCandidates, ids.length);
    if (probe.truth !== undefined && !ids.includes(probe.truth)) o.notBlocked++;
    const best = ranked[0];
    if (best === undefined || best.score.band === 'non-match') continue;
    const right = best.candidate.id === probe.truth;
    if (best.score.band === 'match') {
      if (right) o.matched++;
      else o.falseMatch++;
    } else if (right) o.review++;
    else o.falseReview++;
  }
  const elapsed = performance.now() - t1;
  const kinds = [...byKind.values()];
  const tp = kinds.reduce((t, k) => t + k.matched, 0);
  const fp = kinds.reduce((t, k) => t + k.falseMatch, 0);
  return {
    byKind: kinds,
    indexMs,
    msPerMatch: elapsed / population.probes.length,
    meanCandidates: totalCandidates / population.probes.length,
    maxCandidates,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
  };
}

export function formatOutcome(o: PopulationOutcome): string {
  const lines = [
    'kind                                probes  match  review  false-match  false-review  not-blocked  recall(match)  mean-cands',
  ];
  for (const k of o.byKind) {
    lines.push(
      [
        k.kind.padEnd(36),
        String(k.probes).padStart(6),
        String(k.matched).padStart(6),
        String(k.review).padStart(7),
        String(k.falseMatch).padStart(12),
        String(k.falseReview).padStart(13),
        String(k.notBlocked).padStart(12),
        (k.matched / k.probes).toFixed(3).padStart(14),
        (k.candidates / k.probes).toFixed(1).padStart(11),
      ].join(''),
    );
  }
  lines.push(
    `precision of 'match' over all probes ${o.precision.toFixed(4)}; ${o.msPerMatch.toFixed(3)} ms per match; candidates per probe mean ${o.meanCandidates.toFixed(1)}, max ${o.maxCandidates}; index built in ${o.indexMs.toFixed(0)} ms`,
  );
  return lines.join('\n');
}
