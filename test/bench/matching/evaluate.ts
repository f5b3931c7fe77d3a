/**
 * One benchmark run: EM-train the data set's model on its own records, generate candidate pairs by the
 * OR of its blocking rules, score them, and count precision / recall / F1 against the truth from the
 * record ids. True pairs that blocking never generates are false negatives (NOTES §5).
 */
import {
  CandidateIndex,
  compileModel,
  estimateModel,
  pairWeight,
  prepareRecord,
  recordKeys,
  type LinkageModel,
} from '../../../src/matching/index.js';
import type { BenchDataset, BenchRecord } from './datasets.js';

export interface Metrics {
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface RunResult {
  name: string;
  fields: string[];
  records: string;
  truePairs: number;
  candidatePairs: number;
  /** True pairs among the candidates (blocking recall = this / truePairs). */
  blockedTrue: number;
  atModel: Metrics;
  best: Metrics;
  prior: number;
  seconds: number;
  model: LinkageModel;
}

function metrics(threshold: number, tp: number, predicted: number, truePairs: number): Metrics {
  const fp = predicted - tp;
  const fn = truePairs - tp;
  const precision = predicted === 0 ? 1 : tp / predicted;
  const recall = truePairs === 0 ? 1 : tp / truePairs;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { threshold, tp, fp, fn, precision, recall, f1 };
}

function countTruePairs(left: readonly BenchRecord[], right: readonly BenchRecord[] | undefined): number {
  const count = (rs: readonly BenchRecord[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const r of rs) m.set(r.entity, (m.get(r.entity) ?? 0) + 1);
    return m;
  };
  const l = count(left);
  if (right === undefined) return [...l.values()].reduce((t, s) => t + (s * (s - 1)) / 2, 0);
  const r = count(right);
  let n = 0;
  for (const [e, c] of l) n += c * (r.get(e) ?? 0);
  return n;
}

export function runDataset(ds: BenchDataset, options: { randomPairs?: number } = {}): RunResult {
  const started = performance.now();
  const { records, right } = ds.load();
  const { model } = estimateModel(ds.spec, {
    records: right ? { left: records.map((r) => r.record), right: right.map((r) => r.record) } : records.map((r) => r.record),
    trainingRules: ds.trainingRules,
    provenance: `EM on ${ds.name}`,
    randomPairs: options.randomPairs ?? 300_000,
    seed: 1,
  });
  const cm = compileModel(model);
  const L = records.map((r) => prepareRecord(cm, r.record));
  const R = right ? right.map((r) => prepareRecord(cm, r.record)) : L;
  const rightRecords = right ?? records;
  const index = new CandidateIndex();
  R.forEach((r, j) => {
    index.add(j, recordKeys(cm, r));
  });
  const scored: { w: number; truth: boolean }[] = [];
  L.forEach((a, i) => {
    for (const j of index.candidates(recordKeys(cm, a))) {
      if (!right && j <= i) continue;
      const b = R[j];
      if (b === undefined) continue;
      scored.push({ w: pairWeight(cm, a, b), truth: records[i]?.entity === rightRecords[j]?.entity });
    }
  });
  const truePairs = countTruePairs(records, right);
  scored.sort((x, y) => y.w - x.w);
  let tp = 0;
  let best = metrics(Infinity, 0, 0, truePairs);
  let atModel: Metrics | undefined;
  for (let k = 0; k < scored.length; k++) {
    const s = scored[k];
    if (s === undefined) break;
    if (atModel === undefined && s.w < model.thresholds.match) atModel = metrics(model.thresholds.match, tp, k, truePairs);
    if (s.truth) tp++;
    const next = scored[k + 1];
    if (next?.w === s.w) continue;
    const m = metrics(s.w, tp, k + 1, truePairs);
    if (m.f1 > best.f1) best = m;
  }
  atModel ??= metrics(model.thresholds.match, tp, scored.length, truePairs);
  return {
    name: ds.name,
    fields: model.fields.map((f) => f.field),
    records: right ? `${records.length} × ${right.length}` : String(records.length),
    truePairs,
    candidatePairs: scored.length,
    blockedTrue: tp,
    atModel,
    best,
    prior: model.prior,
    seconds: (performance.now() - started) / 1000,
    model,
  };
}
