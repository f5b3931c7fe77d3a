/**
 * Offline estimation of a linkage model's parameters from unlabelled records, as Splink does it:
 * - u from random pairs (almost all of them are different people);
 * - m by expectation–maximisation, one session per training blocking rule, on the pairs that rule
 *   generates, with u fixed; the fields a session blocks on are left out of it (their agreement is forced
 *   by the blocking), and each field's m is the mean over the sessions that estimated it;
 * - the prior from each session's match share, corrected by the rule's recall (the share of matches
 *   that agree on the rule's key, measured in sessions blocking on other fields);
 * - term frequencies of the fields that ask for them.
 */
import { compileModel, levelIndex, prepareRecord, ruleKey, type CompiledModel, type PreparedRecord } from './engine.js';
import type { LinkageModel, LinkRecord } from './model.js';

export interface EstimateOptions {
  /** Deduplication (one list) or linkage (left × right). */
  records: readonly LinkRecord[] | { left: readonly LinkRecord[]; right: readonly LinkRecord[] };
  /** Random pairs for u (default 300,000). */
  randomPairs?: number;
  seed?: number;
  /** Names of the blocking rules to run EM sessions on (default: every rule). */
  trainingRules?: readonly string[];
  iterations?: number;
  /** Blocks larger than this are skipped in training (default 400 records). */
  maxBlock?: number;
  /** Keep at most this many most frequent values per term-frequency field (default all). */
  termFrequencyTop?: number;
  provenance: string;
}

export interface EstimateReport {
  model: LinkageModel;
  sessions: { rule: string; pairs: number; lambda: number; recall?: number }[];
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EPS = 0.5;

interface Pattern {
  levels: number[];
  agree: boolean[];
  count: number;
}

/** Adds `by` to counts[i] (ignores a missing row or a negative index, i.e. a missing value). */
function bump(counts: number[] | undefined, i: number, by: number): void {
  if (counts !== undefined && i >= 0) counts[i] = (counts[i] ?? 0) + by;
}

function fieldsOfRule(model: LinkageModel, ruleIndex: number): Set<number> {
  const rule = model.blocking[ruleIndex];
  const out = new Set<number>();
  for (const p of rule?.parts ?? []) out.add(model.fields.findIndex((f) => f.field === p.field));
  return out;
}

export function estimateModel(spec: LinkageModel, options: EstimateOptions): EstimateReport {
  const cm = compileModel(spec);
  const nf = spec.fields.length;
  const isLink = !Array.isArray(options.records);
  const left = (isLink ? (options.records as { left: readonly LinkRecord[] }).left : options.records) as readonly LinkRecord[];
  const right = isLink ? (options.records as { right: readonly LinkRecord[] }).right : left;
  const L = left.map((r) => prepareRecord(cm, r));
  const R = isLink ? right.map((r) => prepareRecord(cm, r)) : L;
  const random = seededRandom(options.seed ?? 42);

  // u from random pairs.
  const uCounts = spec.fields.map((f) => new Array<number>(f.levels.length).fill(0));
  const nRandom = options.randomPairs ?? 300_000;
  for (let n = 0; n < nRandom; n++) {
    const i = Math.floor(random() * L.length);
    let j = Math.floor(random() * R.length);
    if (!isLink && j === i) j = (j + 1) % R.length;
    const a = L[i];
    const b = R[j];
    if (a === undefined || b === undefined) continue;
    for (let f = 0; f < nf; f++) bump(uCounts[f], levelIndex(cm, f, a, b), 1);
  }
  const u = uCounts.map((counts) => normalise(counts));

  const ruleIndexes = spec.blocking
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => options.trainingRules === undefined || options.trainingRules.includes(r.name))
    .map(({ i }) => i);
  const keysL = ruleIndexes.map((ri) => L.map((r) => ruleKey(cm, ri, r)));
  const keysR = isLink ? ruleIndexes.map((ri) => R.map((r) => ruleKey(cm, ri, r))) : keysL;

  const mSums = spec.fields.map((f) => new Array<number>(f.levels.length).fill(0));
  const mSessions = new Array<number>(nf).fill(0);
  const sessions: EstimateReport['sessions'] = [];
  const sessionResults: { ri: number; lambda: number; pairs: number; patterns: Pattern[]; posteriors: number[]; excluded: Set<number> }[] =
    [];

  for (const [s, ri] of ruleIndexes.entries()) {
    const patterns = blockedPatterns(cm, L, R, isLink, keysL, keysR, s, options.maxBlock ?? 400);
    const excluded = fieldsOfRule(spec, ri);
    const pairs = patterns.reduce((t, p) => t + p.count, 0);
    if (pairs === 0) continue;
    const { m, lambda, posteriors } = em(spec, u, patterns, excluded, options.iterations ?? 30);
    for (let f = 0; f < nf; f++) {
      if (excluded.has(f)) continue;
      bump(mSessions, f, 1);
      m[f]?.forEach((v, l) => {
        bump(mSums[f], l, v);
      });
    }
    sessionResults.push({ ri, lambda, pairs, patterns, posteriors, excluded });
  }

  // Prior: matches in rule r's blocks / recall of rule r, recall measured in sessions not blocking on r's fields.
  const matchesEstimates: number[] = [];
  for (const res of sessionResults) {
    const bit = ruleIndexes.indexOf(res.ri);
    let agree = 0;
    let total = 0;
    for (const other of sessionResults) {
      if (other === res || [...other.excluded].some((f) => res.excluded.has(f))) continue;
      other.patterns.forEach((p, k) => {
        const w = (other.posteriors[k] ?? 0) * p.count;
        total += w;
        if (p.agree[bit]) agree += w;
      });
    }
    const recall = total > 0 ? agree / total : undefined;
    sessions.push({ rule: spec.blocking[res.ri]?.name ?? '', pairs: res.pairs, lambda: res.lambda, recall });
    if (recall !== undefined && recall > 0.05) matchesEstimates.push((res.lambda * res.pairs) / recall);
  }
  const totalPairs = isLink ? L.length * R.length : (L.length * (L.length - 1)) / 2;
  const prior = matchesEstimates.length > 0 ? Math.min(0.5, Math.max(1e-9, mean(matchesEstimates) / totalPairs)) : spec.prior;

  const model: LinkageModel = {
    ...spec,
    provenance: options.provenance,
    prior,
    fields: spec.fields.map((f, i) => ({
      ...f,
      levels: f.levels.map((l, j) => ({
        level: l.level,
        m: (mSessions[i] ?? 0) > 0 ? round((mSums[i]?.[j] ?? 0) / (mSessions[i] ?? 1)) : l.m,
        u: round(u[i]?.[j] ?? l.u),
      })),
    })),
  };
  const tfFields = spec.fields.filter((f) => f.termFrequency);
  if (tfFields.length > 0) {
    model.termFrequencies = {};
    for (const f of tfFields) {
      const i = spec.fields.indexOf(f);
      const counts = new Map<string, number>();
      let n = 0;
      for (const r of isLink ? [...L, ...R] : L) {
        const v = r.values[i];
        if (v === undefined) continue;
        counts.set(v.s, (counts.get(v.s) ?? 0) + 1);
        n++;
      }
      const top = [...counts.entries()]
        .filter(([, c]) => c >= 2)
        .sort((x, y) => y[1] - x[1])
        .slice(0, options.termFrequencyTop ?? Infinity);
      model.termFrequencies[f.field] = Object.fromEntries(top.map(([v, c]) => [v, round(c / n)]));
    }
  }
  return { model, sessions };
}

function round(x: number): number {
  return Number(x.toPrecision(4));
}

function mean(xs: readonly number[]): number {
  return xs.reduce((t, x) => t + x, 0) / xs.length;
}

function normalise(counts: readonly number[]): number[] {
  const total = counts.reduce((t, c) => t + c, 0) + EPS * counts.length;
  return counts.map((c) => (c + EPS) / total);
}

/** Comparison patterns (levels per field, agreement per training rule) of the pairs one rule's blocks generate. */
function blockedPatterns(
  cm: CompiledModel,
  L: readonly PreparedRecord[],
  R: readonly PreparedRecord[],
  isLink: boolean,
  keysL: readonly (string | undefined)[][],
  keysR: readonly (string | undefined)[][],
  session: number,
  maxBlock: number,
): Pattern[] {
  const blocksL = new Map<string, number[]>();
  (keysL[session] ?? []).forEach((k, i) => {
    if (k !== undefined) (blocksL.get(k) ?? blocksL.set(k, []).get(k))?.push(i);
  });
  const blocksR = new Map<string, number[]>();
  if (isLink)
    (keysR[session] ?? []).forEach((k, i) => {
      if (k !== undefined) (blocksR.get(k) ?? blocksR.set(k, []).get(k))?.push(i);
    });
  const byKey = new Map<string, Pattern>();
  const nf = cm.fields.length;
  const add = (i: number, j: number): void => {
    const a = L[i];
    const b = R[j];
    if (a === undefined || b === undefined) return;
    const levels: number[] = [];
    for (let f = 0; f < nf; f++) levels.push(levelIndex(cm, f, a, b));
    const agree = keysL.map((ks, r) => ks[i] !== undefined && ks[i] === keysR[r]?.[j]);
    const key = levels.join(',') + '/' + agree.map((x) => (x ? 1 : 0)).join('');
    const p = byKey.get(key);
    if (p) p.count++;
    else byKey.set(key, { levels, agree, count: 1 });
  };
  for (const [k, ids] of blocksL) {
    if (isLink) {
      const others = blocksR.get(k);
      if (!others || ids.length * others.length > maxBlock * maxBlock) continue;
      for (const i of ids) for (const j of others) add(i, j);
    } else {
      if (ids.length > maxBlock) continue;
      ids.forEach((x, k) => {
        for (const y of ids.slice(k + 1)) add(x, y);
      });
    }
  }
  return [...byKey.values()];
}

function em(
  spec: LinkageModel,
  u: readonly number[][],
  patterns: readonly Pattern[],
  excluded: ReadonlySet<number>,
  iterations: number,
): { m: number[][]; lambda: number; posteriors: number[] } {
  let m = spec.fields.map((f) => normalise(f.levels.map((l) => l.m * 1000)));
  let lambda = 0.1;
  let posteriors: number[] = [];
  for (let it = 0; it < iterations; it++) {
    // E-step
    posteriors = patterns.map((p) => {
      let pm = lambda;
      let pu = 1 - lambda;
      p.levels.forEach((l, f) => {
        if (l < 0 || excluded.has(f)) return;
        pm *= m[f]?.[l] ?? 1;
        pu *= u[f]?.[l] ?? 1;
      });
      return pm / (pm + pu);
    });
    // M-step
    const sums = spec.fields.map((f) => new Array<number>(f.levels.length).fill(0));
    let matched = 0;
    let total = 0;
    patterns.forEach((p, k) => {
      const w = (posteriors[k] ?? 0) * p.count;
      matched += w;
      total += p.count;
      p.levels.forEach((l, f) => {
        bump(sums[f], l, w);
      });
    });
    m = sums.map((s) => normalise(s));
    lambda = Math.min(0.999, Math.max(1e-9, matched / total));
  }
  return { m, lambda, posteriors };
}
