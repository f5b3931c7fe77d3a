/**
 * Re-estimates the production family-matching model (`mappings/matching.json`) by EM on a generated UK
 * population: a 50,000-mother register (seed 7) linked with 20,000 notifications drawn as a register sees
 * them (60% known mothers with plausible corruption rates, 40% new mothers; `realisticProbes`). u comes
 * from random pairs, m from EM sessions blocked on date of birth, postcode, phone and names, the prior
 * from the sessions' match shares. Levels, blocking rules and thresholds are kept from the current file.
 * Run: `npm run build && node dist/test/bench/estimate-uk-model.js [--write]`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { estimateModel, personRecord, type LinkageModel } from '../../src/matching/index.js';
import { generateUkPopulation, realisticProbes } from '../support/synthetic/uk-population.js';

const FILE = 'mappings/matching.json';

function main(): void {
  const current = JSON.parse(readFileSync(FILE, 'utf8')) as LinkageModel & { $comment?: string };
  const population = generateUkPopulation({ seed: 7, probesPerKind: 0 });
  const probes = realisticProbes(population, 20_000, 99);
  const spec: LinkageModel = {
    ...current,
    fields: current.fields.map((f) => ({ ...f, termFrequency: f.field === 'familyName' || f.field === 'givenName' })),
  };
  delete spec.termFrequencies;
  const { model, sessions } = estimateModel(spec, {
    records: { left: probes.map((p) => personRecord(p.person)), right: population.register.map((e) => personRecord(e.person)) },
    trainingRules: ['dob', 'pc', 'ph', 'names'],
    randomPairs: 1_000_000,
    seed: 7,
    termFrequencyTop: 300,
    provenance:
      "EM (as Splink: u from 1,000,000 random pairs; m by expectation-maximisation in sessions blocked on date of birth, postcode, phone and names, each session leaving its blocking fields out; prior from the sessions' match shares corrected by blocking recall) on a GENERATED UK population: 50,000 register mothers (test/support/synthetic/uk-population.ts, seed 7) linked with 20,000 notifications (realisticProbes, seed 99: 60% known mothers with typos, name variants, moves, missing phones, 40% new mothers). Term frequencies (top 300 family and given names) from the same register. Re-run: node dist/test/bench/estimate-uk-model.js --write. Thresholds set by hand from the generated-population and bench measurements (see $comment). Not yet validated on real Stork data.",
  });
  // The production prior: the chance that a given register mother is the notification's mother, which
  // depends on the register's size, not on the training set's. The EM prior for 50,000 is kept as is.
  for (const s of sessions) {
    console.log(`session ${s.rule}: ${s.pairs} pairs, lambda ${s.lambda.toExponential(3)}, recall ${s.recall?.toFixed(3) ?? '-'}`);
  }
  console.log(
    `prior ${model.prior.toExponential(3)} (truth ${(probes.filter((p) => p.truth !== undefined).length / (probes.length * 50_000)).toExponential(3)})`,
  );
  for (const f of model.fields) {
    console.log(f.field, f.levels.map((l) => `${l.level} m=${l.m} u=${l.u} w=${Math.log2(l.m / l.u).toFixed(2)}`).join(' | '));
  }
  if (process.argv.includes('--write')) {
    const out = { $comment: current.$comment, ...model };
    writeFileSync(FILE, JSON.stringify(out, null, 2) + '\n');
    console.log(`wrote ${FILE}`);
  }
}

main();
