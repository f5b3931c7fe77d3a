/** The benchmark's figures, their targets, and the report printed at the end of `npm run bench`. */

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** One repetition's figures (the report prints their medians when the run is repeated). */
export interface RunFigures {
  serial: {
    messages: number;
    messagesPerSecond: number;
    ackMs: Percentiles;
    endToEndMs: Percentiles;
    floor: { commits: number; seconds: number; commitsPerSecond: number; commitMs: { p50: number; p99: number } };
    /** Stork's serial messages per second / the commit floor's commits per second. */
    ratio: number;
  };
  throughput: {
    messagesPerSecond: number;
    seconds: number;
    ackPhaseSeconds: number;
    ackMessagesPerSecond: number;
    ackMs: Percentiles;
    endToEndMs: Percentiles;
    ackCodes: Record<string, number>;
    sendErrors: Record<string, number>;
    inboxItems: number;
    inboxItemsByInbox: Record<string, number>;
    peakRssMb: number;
    processCpuSeconds: number;
    processCpuPerMessageUs: number | null;
    workerProcessesCpuSeconds: number | null;
    workerProcessesCpuPerMessageUs: number | null;
    loadGeneratorCpuSeconds: number;
    loadGeneratorCpuPerMessageUs: number | null;
    postgresCpuPerMessageUs: number | null;
    redisCpuPerMessageUs: number | null;
    inboxPolls: number;
    inboxStuckChecks: number;
  };
  latency: {
    offeredRate: number;
    achievedRate: number;
    messages: number;
    maxPacingLagMs: number;
    ackMs: Percentiles;
    endToEndMs: Percentiles;
    ackCodes: Record<string, number>;
    sendErrors: Record<string, number>;
  };
  /** null when the run had no burst phase (--short, --burst 0). */
  burst: {
    messages: number;
    /** The hub process's peak RSS over the earlier phases (serial, throughput, latency), before the burst. */
    hubPeakBeforeMb: number;
    ackMessagesPerSecond: number;
    /** Peak RSS (MB) up to the 10,000th ACK, and up to the last multiple of 10,000 (the 100,000th in a full run). */
    rssMbAt10k: { hub: number; workers: number } | null;
    rssMbAtEnd: { hub: number; workers: number } | null;
    rssMbAllDelivered: { hub: number; workers: number };
    /** (hub + workers) at the end / at 10k. */
    growth: number | null;
  } | null;
  /**
   * The FHIR mode: FHIR R4 birth Bundles to `$process-message` over `connections` keep-alive HTTP connections, one request in
   * flight on each, end to end (first send → last in an inbox); beside it the HL7 v2 mode at the same concurrency (MLLP, as
   * many connections, one in flight on each), run just before it. null when the run had no FHIR mode (--fhir 0).
   */
  fhir: {
    messages: number;
    connections: number;
    messagesPerSecond: number;
    seconds: number;
    ackMessagesPerSecond: number;
    ackMs: Percentiles;
    endToEndMs: Percentiles;
    httpCodes: Record<string, number>;
    sendErrors: Record<string, number>;
    /** The hub process's CPU over the FHIR phase, per message (intake; the workers too with --worker-processes 0). */
    processCpuPerMessageUs: number;
    hl7v2SameConcurrency: { messagesPerSecond: number; seconds: number; ackMessagesPerSecond: number; ackMs: Percentiles };
    /** FHIR messages per second / HL7 v2 messages per second at the same concurrency, end to end. */
    ratioToHl7v2SameConcurrency: number;
    /** FHIR messages per second / the throughput phase's (HL7 v2, all connections, pipelined), end to end. */
    ratioToHl7v2Throughput: number;
  } | null;
  baseline: { jobs: number; seconds: number; jobsPerSecond: number; concurrency: number; inFlightAdds: number };
  /** End to end: Stork's messages per second / bare BullMQ's jobs per second. */
  ratio: number;
  peakRssMb: number;
}

/** What stage-costs.ts writes to .stork-bench/stage-costs.json (the part the report reads). */
export interface StageCosts {
  messages: number;
  batch: number;
  perBirthUs: number;
  reference: { perBirthUs: number; commit: string; what: string } | null;
  /** perBirthUs / reference − 1 (negative: cheaper). */
  change: number | null;
}

/** The targets of issue 9, part 5: each a ratio to a baseline measured in the same run. */
export const TARGETS = {
  serialRatioAtLeast: 0.5,
  endToEndRatioAtLeast: 0.25,
  cpuPerBirthChangeAtMost: -0.25,
  burstRssGrowthAtMost: 1.1,
  latencyAckP99Ms: 20,
} as const;

export const us = (n: number | null): string => (n === null ? 'n/a' : `${n} µs`);
const verdict = (met: boolean | null): string => (met === null ? '' : met ? 'MET' : 'NOT MET');
const pct = (x: number): string => `${x > 0 ? '+' : ''}${Math.round(x * 100)}%`;

/** One repetition's key figures on one line. */
export function runLine(name: string, f: RunFigures): string {
  const t = f.throughput;
  const b = f.burst;
  return (
    `${name}: serial ${f.serial.messagesPerSecond} msg/s / floor ${f.serial.floor.commitsPerSecond} = ${f.serial.ratio}; ` +
    `end to end ${t.messagesPerSecond} msg/s / bare BullMQ ${f.baseline.jobsPerSecond} = ${f.ratio}; ` +
    `ACK p50/p99 at ${f.latency.offeredRate}/s ${f.latency.ackMs.p50} / ${f.latency.ackMs.p99} ms; ` +
    (f.fhir
      ? `FHIR ${f.fhir.messagesPerSecond} msg/s = ${f.fhir.ratioToHl7v2SameConcurrency} × HL7 v2 at ${f.fhir.connections} conns, ${f.fhir.ratioToHl7v2Throughput} × throughput; `
      : '') +
    `CPU/msg hub ${us(t.processCpuPerMessageUs)}, worker(s) ${us(t.workerProcessesCpuPerMessageUs)}, PostgreSQL ${us(t.postgresCpuPerMessageUs)}` +
    (b?.rssMbAt10k && b.rssMbAtEnd
      ? `; RSS 10k ${b.rssMbAt10k.hub}+${b.rssMbAt10k.workers} MB, ${b.messages / 1000}k ${b.rssMbAtEnd.hub}+${b.rssMbAtEnd.workers} MB`
      : '')
  );
}

export function printReport(
  r: {
    settings: {
      messages: number;
      connections: number;
      rate: number;
      workerProcesses: number;
      serialMessages: number;
      burstMessages: number;
    };
    figures: RunFigures;
    stages: StageCosts | null;
  },
  title: string,
): void {
  const { settings, figures: f, stages } = r;
  const codes = (c: Record<string, number>): string =>
    Object.entries(c)
      .map(([k, n]) => `${k}=${n}`)
      .join(' ');
  const b = f.burst;
  const rows: [string, string, string][] = [
    [
      'Hub processes',
      settings.workerProcesses > 0
        ? `intake (this process) + ${settings.workerProcesses} worker process(es)`
        : 'one process: intake and workers',
      '',
    ],
    ['TARGETS', '', ''],
    [
      '  Serial sender / PostgreSQL commit floor',
      `${f.serial.ratio}`,
      `target ≥ ${TARGETS.serialRatioAtLeast}  ${verdict(f.serial.ratio >= TARGETS.serialRatioAtLeast)}`,
    ],
    [
      '  End to end / bare BullMQ',
      `${f.ratio}`,
      `target ≥ ${TARGETS.endToEndRatioAtLeast}  ${verdict(f.ratio >= TARGETS.endToEndRatioAtLeast)}`,
    ],
    [
      '  CPU per birth (bench:stages) / reference',
      stages === null
        ? 'n/a (bench:stages failed)'
        : `${stages.perBirthUs} µs / ${stages.reference ? `${stages.reference.perBirthUs} µs` : 'no reference for these settings'}`,
      stages?.change !== null && stages?.change !== undefined
        ? `${pct(stages.change)}, target ≤ ${pct(TARGETS.cpuPerBirthChangeAtMost)}  ${verdict(stages.change <= TARGETS.cpuPerBirthChangeAtMost)}`
        : '',
    ],
    [
      '  Peak RSS (hub + workers) at 10k / 100k ACKs',
      b?.rssMbAt10k && b.rssMbAtEnd
        ? `${b.rssMbAt10k.hub} + ${b.rssMbAt10k.workers} / ${b.rssMbAtEnd.hub} + ${b.rssMbAtEnd.workers} MB`
        : b
          ? 'not measured: the burst had failed sends (see FAILED below)'
          : 'no burst in this run (--burst N)',
      b?.growth !== null && b?.growth !== undefined
        ? `×${b.growth}, target flat (≤ ×${TARGETS.burstRssGrowthAtMost})  ${verdict(b.growth <= TARGETS.burstRssGrowthAtMost)}`
        : '',
    ],
    ['Serial sender', `${f.serial.messages} msgs, 1 connection, 1 in flight`, ''],
    ['  Stork (first send → last ACK)', `${f.serial.messagesPerSecond} msg/s`, ''],
    ['  ACK latency p50 / p99', `${f.serial.ackMs.p50} / ${f.serial.ackMs.p99} ms`, ''],
    ['  End to end p50 / p99 (received → delivered)', `${f.serial.endToEndMs.p50} / ${f.serial.endToEndMs.p99} ms`, ''],
    [
      '  PostgreSQL commit floor (INSERT + COMMIT, 1 conn)',
      `${f.serial.floor.commitsPerSecond} commits/s`,
      `p50 ${f.serial.floor.commitMs.p50} ms`,
    ],
    ['Throughput phase', `${settings.messages} msgs, ${settings.connections} conns`, ''],
    ['  Stork end to end (first send → last in inbox)', `${f.throughput.messagesPerSecond} msg/s`, `${f.throughput.seconds} s`],
    ['  Intake only (first send → last ACK)', `${f.throughput.ackMessagesPerSecond} msg/s`, ''],
    ['  ACK latency p50 / p99', `${f.throughput.ackMs.p50} / ${f.throughput.ackMs.p99} ms`, ''],
    ['  End to end p50 / p99 (received → delivered)', `${f.throughput.endToEndMs.p50} / ${f.throughput.endToEndMs.p99} ms`, ''],
    ['  ACK codes', codes(f.throughput.ackCodes), ''],
    [
      '  CPU per message: hub process',
      us(f.throughput.processCpuPerMessageUs),
      settings.workerProcesses > 0 ? 'intake' : 'intake and workers',
    ],
    ...(settings.workerProcesses > 0
      ? [
          ['  CPU per message: worker process(es)', us(f.throughput.workerProcessesCpuPerMessageUs), '/proc/<pid>/stat'] as [
            string,
            string,
            string,
          ],
        ]
      : []),
    ['  CPU per message: load generator', us(f.throughput.loadGeneratorCpuPerMessageUs), 'child process, not counted above'],
    [
      '  CPU per message: PostgreSQL / Redis',
      `${us(f.throughput.postgresCpuPerMessageUs)} / ${us(f.throughput.redisCpuPerMessageUs)}`,
      'server processes, /proc',
    ],
    ['  Peak RSS of hub process (phase / whole run)', `${f.throughput.peakRssMb} / ${f.peakRssMb} MB`, ''],
    ['Latency phase', `${f.latency.offeredRate}/s offered, ${f.latency.messages} msgs`, `achieved ${f.latency.achievedRate}/s`],
    ['  ACK latency p50 / p99', `${f.latency.ackMs.p50} / ${f.latency.ackMs.p99} ms`, `target p99 < ${TARGETS.latencyAckP99Ms} ms`],
    ['  End to end p50 / p99', `${f.latency.endToEndMs.p50} / ${f.latency.endToEndMs.p99} ms`, ''],
    ['  ACK codes', codes(f.latency.ackCodes), ''],
    ...(f.fhir
      ? ([
          ['FHIR mode ($process-message, HTTP keep-alive)', `${f.fhir.messages} msgs, ${f.fhir.connections} conns, 1 in flight each`, ''],
          [
            '  FHIR end to end / HL7 v2 at the same concurrency',
            `${f.fhir.ratioToHl7v2SameConcurrency}`,
            `${f.fhir.messagesPerSecond} / ${f.fhir.hl7v2SameConcurrency.messagesPerSecond} msg/s (MLLP, ${f.fhir.connections} conns, 1 in flight each)`,
          ],
          [
            '  FHIR end to end / HL7 v2 throughput phase',
            `${f.fhir.ratioToHl7v2Throughput}`,
            `${f.fhir.messagesPerSecond} / ${f.throughput.messagesPerSecond} msg/s (MLLP, ${settings.connections} conns, pipelined)`,
          ],
          [
            '  Intake only FHIR / HL7 v2 same concurrency',
            `${f.fhir.ackMessagesPerSecond} / ${f.fhir.hl7v2SameConcurrency.ackMessagesPerSecond} msg/s`,
            '',
          ],
          [
            '  Answer latency p50 / p99: FHIR, HL7 v2 same concurrency',
            `${f.fhir.ackMs.p50} / ${f.fhir.ackMs.p99} ms, ${f.fhir.hl7v2SameConcurrency.ackMs.p50} / ${f.fhir.hl7v2SameConcurrency.ackMs.p99} ms`,
            '',
          ],
          ['  FHIR end to end p50 / p99', `${f.fhir.endToEndMs.p50} / ${f.fhir.endToEndMs.p99} ms`, ''],
          ['  FHIR CPU per message: hub process', us(f.fhir.processCpuPerMessageUs), ''],
          ['  HTTP statuses', codes(f.fhir.httpCodes), ''],
        ] as [string, string, string][])
      : []),
    ...(b
      ? ([
          ['Burst phase', `${b.messages} msgs, ${settings.connections} conns`, `intake ${b.ackMessagesPerSecond} msg/s`],
          ['  Peak RSS of hub process before the burst (earlier phases)', `${b.hubPeakBeforeMb} MB`, ''],
          [
            '  Peak RSS hub + workers: 10k / end / all delivered',
            `${b.rssMbAt10k ? `${b.rssMbAt10k.hub} + ${b.rssMbAt10k.workers}` : 'n/a'} / ${b.rssMbAtEnd ? `${b.rssMbAtEnd.hub} + ${b.rssMbAtEnd.workers}` : 'n/a'} / ${b.rssMbAllDelivered.hub} + ${b.rssMbAllDelivered.workers} MB`,
            '',
          ],
        ] as [string, string, string][])
      : []),
    ['Bare BullMQ (add ×50 in flight, worker ×50)', `${f.baseline.jobsPerSecond} jobs/s`, `${f.baseline.seconds} s`],
  ];
  const w0 = Math.max(...rows.map((x) => x[0].length));
  const w1 = Math.max(...rows.map((x) => x[1].length));
  const line = '-'.repeat(w0 + w1 + 40);
  process.stdout.write(`\nStork benchmark${title ? ` (${title})` : ''}\n${line}\n`);
  for (const [a, bb, c] of rows) process.stdout.write(`${a.padEnd(w0)}  ${bb.padEnd(w1)}  ${c}\n`.replace(/\s+\n$/, '\n'));
  process.stdout.write(
    `${line}\nTargets are for comparison only (this 2-core machine, everything on it); the bench fails only on lost messages, non-positive ACKs or its deadline.\n\n`,
  );
}
