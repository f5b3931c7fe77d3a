/**
 * The family matcher on a generated UK population: a 50,000-mother register (the issue asks for at least
 * 50,000 family records; not scaled down for the test) and 5,200 labelled probes (400 per kind). Floors
 * are set from measurement on this seed (printed below and in the bench) with a margin.
 */
import { loadMatchModel } from '../../../src/config/matching.js';
import { formatOutcome, matchPopulation, type PopulationOutcome } from '../../support/synthetic/population-matching.js';
import { generateUkPopulation, MATCHING_KINDS, NON_MATCHING_KINDS, type ProbeKind } from '../../support/synthetic/uk-population.js';

/** Measured on seed 2026 (match-band recall): clean 1.000, typo 1.000, swapped 0.998, hyphen 1.000, transliteration 0.995, moved 0.955, no phone 0.993, DOB transposed 0.998, moved + typo 0.935. */
const RECALL_FLOOR: Partial<Record<ProbeKind, number>> = {
  clean: 0.99,
  typo: 0.98,
  'swapped-names': 0.98,
  'hyphen-one-part': 0.98,
  transliteration: 0.98,
  'moved-house': 0.92,
  'no-phone': 0.97,
  'dob-transposed': 0.98,
  'moved-and-typo': 0.9,
};

describe('The family matcher on a generated UK population of 50,000 mothers', () => {
  let outcome: PopulationOutcome;
  const model = loadMatchModel();

  beforeAll(() => {
    const population = generateUkPopulation({ seed: 2026, size: 50_000, probesPerKind: 400 });
    expect(population.register).toHaveLength(50_000);
    outcome = matchPopulation(model, population);
    console.log(`Family matcher, generated UK population (50,000 register, seed 2026):\n${formatOutcome(outcome)}`);
  });

  it.each(MATCHING_KINDS)('finds the mother in the match band despite: %s', (kind) => {
    const k = outcome.byKind.find((o) => o.kind === kind);
    expect(k?.probes).toBe(400);
    expect((k?.matched ?? 0) / 400).toBeGreaterThanOrEqual(RECALL_FLOOR[kind] ?? 1);
    // a true mother is never replaced by a wrong one in the match band, and blocking always finds her
    expect(k?.falseMatch).toBe(0);
    expect(k?.notBlocked).toBe(0);
    // the rest goes to review rather than being lost
    expect(((k?.matched ?? 0) + (k?.review ?? 0)) / 400).toBeGreaterThanOrEqual(0.99);
  });

  it.each(NON_MATCHING_KINDS)('does not match a different woman: %s', (kind) => {
    const k = outcome.byKind.find((o) => o.kind === kind);
    expect(k?.probes).toBe(400);
    expect(k?.matched).toBe(0);
    expect(k?.falseMatch).toBeLessThanOrEqual(kind === 'stranger' ? 0 : 3);
  });

  it('keeps overall precision of the match band and is fast on the 50,000 register', () => {
    expect(outcome.precision).toBeGreaterThanOrEqual(0.998);
    expect(outcome.meanCandidates).toBeLessThan(60);
    // the bench measures 1 ms per match; allow for a loaded shared 2-core machine
    expect(outcome.msPerMatch).toBeLessThan(25);
  });
});
