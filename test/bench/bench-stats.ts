import { procRssBytes } from './proc-cpu.js';

/** Small helpers the bench modules share: logging, percentiles, rounding, medians across runs, peak RSS. */

export const log = (s: string): void => void process.stderr.write(`bench: ${s}\n`);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export interface Dist {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function dist(samples: Float64Array): Dist {
  const s = Float64Array.from(samples).sort();
  return {
    count: s.length,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: s[s.length - 1] ?? Number.NaN,
  };
}

export const round = (n: number, d = 2): number => (Number.isFinite(n) ? Math.round(n * 10 ** d) / 10 ** d : n);
export const mb = (bytes: number): number => round(bytes / (1024 * 1024), 1);

/** Peak resident set size, sampled every 50 ms; a phase can read (and reset) its own peak, or record a timeline (the burst). */
export class RssSampler {
  peak = process.memoryUsage().rss;
  phasePeak = this.peak;
  /** Worker processes, read from /proc while a timeline is recorded. */
  workerPids: readonly (number | undefined)[] = [];
  private timeline: { at: number; hub: number; workers: number }[] | undefined;
  private readonly timer: NodeJS.Timeout;
  constructor() {
    this.timer = setInterval(() => this.sample(), 50);
    this.timer.unref();
  }
  sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
    if (rss > this.phasePeak) this.phasePeak = rss;
    if (this.timeline) {
      let workers = 0;
      for (const pid of this.workerPids) workers += procRssBytes(pid) ?? 0;
      this.timeline.push({ at: Date.now(), hub: rss, workers });
    }
  }
  resetPhase(): void {
    this.phasePeak = process.memoryUsage().rss;
  }
  /** Starts (afresh) a timeline of the hub's and the worker processes' RSS. */
  recordTimeline(): void {
    this.timeline = [];
    this.sample();
  }
  /** Peak RSS (bytes) of the hub process and of the worker processes together, over the timeline up to `epochMs`. */
  peakUntil(epochMs: number): { hub: number; workers: number } {
    let hub = 0;
    let workers = 0;
    for (const s of this.timeline ?? []) {
      if (s.at > epochMs) break;
      hub = Math.max(hub, s.hub);
      workers = Math.max(workers, s.workers);
    }
    return { hub, workers };
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
    this.timeline = undefined;
  }
}

export const POSITIVE_ACKS = new Set(['CA', 'AA']);

/** A run's figures as medianOf sees them: numbers, nested (null: not measured). */
export type Figures = number | null | { readonly [key: string]: Figures };

export function median(values: readonly number[]): number {
  if (values.some(Number.isNaN)) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2;
}

/**
 * The median of each number across the runs, position by position: every figure is the median of that
 * figure over the runs (so the ratio is the median of the runs' own ratios, not a ratio of medians). A key
 * some runs lack (an ACK code only one run saw) counts 0 there; a figure any run could not measure stays null.
 */
export function medianOf(values: readonly Figures[]): Figures {
  if (values.some((v) => v === null)) return null;
  const numbers = values.filter((v): v is number => typeof v === 'number');
  if (numbers.length === values.length) return median(numbers);
  const objects = values.filter((v): v is Readonly<Record<string, Figures>> => typeof v === 'object' && v !== null);
  const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return Object.fromEntries(keys.map((k) => [k, medianOf(objects.map((o) => o[k] ?? 0))]));
}

export function mapDist(d: Dist): { p50: number; p90: number; p99: number; max: number } {
  return { p50: round(d.p50), p90: round(d.p90), p99: round(d.p99), max: round(d.max) };
}
