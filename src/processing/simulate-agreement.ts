import type { DecisionHistory } from '../ports/decision-history.js';
import { Simulation, type SimulationReport, type SimulationScope } from '../pipeline/consent/simulate.js';

/**
 * Runs a proposed agreement over the stored history (issue 13 item 5), page by page inside one read-only
 * transaction: nothing is changed. The report names notifications by id only; notifications whose records retention
 * purged are skipped and counted (`purged`).
 */
export async function simulateAgreement(
  history: DecisionHistory,
  scope: SimulationScope,
  since?: Date,
): Promise<{ report: SimulationReport; elapsedMs: number }> {
  const started = performance.now();
  const simulation = new Simulation(scope, since);
  const filter = since !== undefined ? { since } : {};
  await history.scan(filter, (page) => {
    simulation.add(page);
  });
  // Purged notifications have no record to re-decide: the report says how many were left out.
  const purged = await history.countPurged(filter);
  const report = simulation.report();
  return { report: purged > 0 ? { ...report, purged } : report, elapsedMs: Math.round(performance.now() - started) };
}
