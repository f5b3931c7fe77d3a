import type { DecisionHistory } from '../ports/decision-history.js';
import { Simulation, type SimulationReport, type SimulationScope } from '../pipeline/consent/simulate.js';

/**
 * Runs a proposed agreement over the stored history (issue 13 item 5), page by page inside one read-only
 * transaction: nothing is changed. The report names notifications by id only.
 */
export async function simulateAgreement(
  history: DecisionHistory,
  scope: SimulationScope,
  since?: Date,
): Promise<{ report: SimulationReport; elapsedMs: number }> {
  const started = performance.now();
  const simulation = new Simulation(scope, since);
  await history.scan(since !== undefined ? { since } : {}, (page) => {
    simulation.add(page);
  });
  return { report: simulation.report(), elapsedMs: Math.round(performance.now() - started) };
}
