/**
 * `npm run bench:matching`: the family matcher on the public record-linkage sets (FEBRL3, FEBRL4, the
 * Febrl 0.4.2 heavy C series, Splink's historical_50k) beside the published baselines, and the time per
 * match against a 50,000-record generated UK register. Exits non-zero only on a crash.
 */
import { loadMatchModel } from '../../src/config/matching.js';
import { formatOutcome, matchPopulation } from '../support/synthetic/population-matching.js';
import { generateUkPopulation } from '../support/synthetic/uk-population.js';
import { datasets, type BenchDataset } from './matching/datasets.js';
import { runDataset, type RunResult } from './matching/evaluate.js';

const f = (x: number, d = 4): string => x.toFixed(d);

function printRun(r: RunResult, ds: BenchDataset): void {
  console.log(`\n== ${r.name}: ${r.records} records, ${r.truePairs} true pairs, ${r.seconds.toFixed(1)} s`);
  console.log(`   fields used: ${r.fields.join(', ')}`);
  console.log(`   blocking: ${ds.spec.blocking.map((b) => b.name).join(' OR ')}; EM sessions on ${ds.trainingRules.join(', ')}`);
  console.log(
    `   candidate pairs ${r.candidatePairs}, true pairs among them ${r.blockedTrue} (blocking recall ${f(r.blockedTrue / r.truePairs)}), EM prior ${r.prior.toExponential(3)}`,
  );
  for (const [label, m] of [
    ['model threshold', r.atModel],
    ['best threshold ', r.best],
  ] as const) {
    console.log(
      `   ${label} w>=${m.threshold.toFixed(2)}: TP ${m.tp} FP ${m.fp} FN ${m.fn}  P ${f(m.precision)} R ${f(m.recall)} F1 ${f(m.f1)}`,
    );
  }
  if (ds.baseline) console.log(`   baseline: ${ds.baseline.label} F1 ${f(ds.baseline.f1)}`);
}

function main(): void {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const rows: string[][] = [];
  for (const ds of datasets()) {
    if (only.length > 0 && !only.some((o) => ds.name.toLowerCase().includes(o.toLowerCase()))) continue;
    const r = runDataset(ds);
    printRun(r, ds);
    rows.push([
      r.name,
      String(r.candidatePairs),
      `${f(r.atModel.precision, 3)}/${f(r.atModel.recall, 3)}/${f(r.atModel.f1)}`,
      `${f(r.best.precision, 3)}/${f(r.best.recall, 3)}/${f(r.best.f1)}`,
      ds.baseline ? f(ds.baseline.f1) : '-',
      ds.baseline ? (r.best.f1 >= ds.baseline.f1 ? 'at/above' : 'BELOW') : '-',
    ]);
  }
  let ukLine = '';
  if (only.length === 0 || only.some((o) => 'uk'.includes(o.toLowerCase()))) {
    const model = loadMatchModel();
    const population = generateUkPopulation({ seed: 2026, size: 50_000, probesPerKind: 400 });
    // warm-up pass (JIT), then the measured one
    matchPopulation(model, { register: population.register, probes: population.probes.slice(0, 500) });
    const o = matchPopulation(model, population);
    console.log(
      `\n== Generated UK register: 50,000 mothers, ${population.probes.length} labelled probes (seed 2026), production model mappings/matching.json`,
    );
    console.log(
      `   fields used: ${model.fields.map((x) => x.field).join(', ')}; blocking: ${model.blocking.map((b) => b.name).join(' OR ')}`,
    );
    console.log(
      `   thresholds: match w>=${model.thresholds.match}, review w>=${model.thresholds.review}; recall = best candidate is the true mother in the match band`,
    );
    console.log(formatOutcome(o).replace(/^/gm, '   '));
    ukLine = `time per match on the 50,000 register: ${o.msPerMatch.toFixed(3)} ms (target < 5 ms, ${o.msPerMatch < 5 ? 'met' : 'MISSED'}); candidates per probe mean ${o.meanCandidates.toFixed(1)}, max ${o.maxCandidates}; match-band precision ${o.precision.toFixed(4)}`;
  }
  console.log('\n== Summary (P/R/F1; blocking losses counted as false negatives)');
  const header = ['data set', 'candidates', 'at model threshold', 'at best threshold', 'baseline F1', 'vs baseline'];
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  if (ukLine !== '') console.log(ukLine);
}

main();
