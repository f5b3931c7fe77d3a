/**
 * What-if (issue 13 item 5): a proposed agreement run over the stored history. For each stored notification the
 * proposed agreement would govern, it decides again (same record, same consent context the decision saw) and
 * compares with the decision stored; the report counts the changes per rule and per centre and lists them by
 * notification id only: no personal data. Pure: the history is read in pages by the caller, inside a read-only
 * transaction.
 */
import type { BirthNotification } from '../../domain/birth-notification.js';
import { decide, type Decision } from './decide.js';
import type { Rulebook } from './rulebook.js';
import type { Route } from '../route.js';

/** What the simulation needs of a stored notification. */
export interface HistoricDecision {
  notificationId: string;
  record: BirthNotification;
  decision: Decision;
  route: Route;
}

/** Which stored notifications the proposed agreement would govern. */
export interface SimulationScope {
  proposed: Rulebook;
  /**
   * A local authority id: every notification routed to that area, whichever agreement decided it (an area
   * changing agreement). Without it: every notification decided under an agreement of the proposed one's id.
   */
  area?: string;
}

/** A decision in short: what a change is from and to. */
export interface DecisionOutcome {
  ruleId: string;
  effect: Decision['effect'];
  dataset?: string;
  inbox?: string;
}

export interface SimulationReport {
  agreement: { id: string; version: string; sha256: string };
  area?: string;
  since?: string;
  /** Stored notifications read. */
  read: number;
  /** Of those, the notifications the proposed agreement would govern. */
  governed: number;
  /** Of those, the decisions that would change. */
  changed: number;
  /** Per rule: how many governed notifications it decides now (stored) and would decide (proposed), and the changes. */
  byRule: { ruleId: string; now: number; proposed: number; changedFrom: number; changedTo: number }[];
  /** Per centre (the inbox the route chose: a centre's id, or an unallocated inbox): governed, changed, and which. */
  byCentre: { centre: string; governed: number; changed: number; notificationIds: string[] }[];
  /** Each kind of change (from → to) with its notifications. */
  changes: { from: DecisionOutcome; to: DecisionOutcome; count: number; notificationIds: string[] }[];
  /** Notifications skipped because retention purged their records (issue 14): present when there are any. */
  purged?: number;
}

const outcome = (d: Decision): DecisionOutcome => ({
  ruleId: d.ruleId,
  effect: d.effect,
  ...(d.dataset !== undefined ? { dataset: d.dataset } : {}),
  ...(d.inbox !== undefined ? { inbox: d.inbox } : {}),
});

const sameOutcome = (a: Decision, b: Decision): boolean =>
  a.ruleId === b.ruleId && a.effect === b.effect && a.dataset === b.dataset && a.inbox === b.inbox;

const routeCentre = (r: Route): string => (r.kind === 'centre' ? r.centreId : r.inboxId);

/** Accumulates a simulation page by page (the history may be large); `report` gives the result. */
export class Simulation {
  private read = 0;
  private governed = 0;
  private changed = 0;
  private readonly rules = new Map<string, { now: number; proposed: number; changedFrom: number; changedTo: number }>();
  private readonly centres = new Map<string, { governed: number; changed: number; notificationIds: string[] }>();
  private readonly changes = new Map<string, { from: DecisionOutcome; to: DecisionOutcome; notificationIds: string[] }>();

  constructor(
    private readonly scope: SimulationScope,
    private readonly since?: Date,
  ) {}

  private rule(id: string) {
    let r = this.rules.get(id);
    if (r === undefined) this.rules.set(id, (r = { now: 0, proposed: 0, changedFrom: 0, changedTo: 0 }));
    return r;
  }

  governs(n: HistoricDecision): boolean {
    const { area, proposed } = this.scope;
    return area !== undefined ? n.route.localAuthorityId === area : n.decision.rulebookId === proposed.id;
  }

  add(page: readonly HistoricDecision[]): void {
    for (const n of page) {
      this.read++;
      if (!this.governs(n)) continue;
      this.governed++;
      const next = decide(n.record, this.scope.proposed, n.decision.consent ?? {});
      this.rule(n.decision.ruleId).now++;
      this.rule(next.ruleId).proposed++;
      const centreId = routeCentre(n.route);
      let centre = this.centres.get(centreId);
      if (centre === undefined) this.centres.set(centreId, (centre = { governed: 0, changed: 0, notificationIds: [] }));
      centre.governed++;
      if (sameOutcome(n.decision, next)) continue;
      this.changed++;
      this.rule(n.decision.ruleId).changedFrom++;
      this.rule(next.ruleId).changedTo++;
      centre.changed++;
      centre.notificationIds.push(n.notificationId);
      const from = outcome(n.decision);
      const to = outcome(next);
      const key = JSON.stringify([from, to]);
      const kind = this.changes.get(key);
      if (kind === undefined) this.changes.set(key, { from, to, notificationIds: [n.notificationId] });
      else kind.notificationIds.push(n.notificationId);
    }
  }

  report(): SimulationReport {
    const { proposed, area } = this.scope;
    const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    const order = new Map(proposed.rules.map((r, i) => [r.id, i]));
    return {
      agreement: { id: proposed.id, version: proposed.version, sha256: proposed.hash },
      ...(area !== undefined ? { area } : {}),
      ...(this.since !== undefined ? { since: this.since.toISOString() } : {}),
      read: this.read,
      governed: this.governed,
      changed: this.changed,
      byRule: [...this.rules.entries()]
        .sort(([a], [b]) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity) || byId(a, b))
        .map(([ruleId, r]) => ({ ruleId, ...r })),
      byCentre: [...this.centres.entries()]
        .sort(([a], [b]) => byId(a, b))
        .map(([centre, c]) => ({ centre, governed: c.governed, changed: c.changed, notificationIds: [...c.notificationIds].sort() })),
      changes: [...this.changes.values()]
        .map((c) => ({ from: c.from, to: c.to, count: c.notificationIds.length, notificationIds: [...c.notificationIds].sort() }))
        .sort((a, b) => b.count - a.count || byId(JSON.stringify([a.from, a.to]), JSON.stringify([b.from, b.to]))),
    };
  }
}

/** The report in a few lines of text, for the command line (counts and rule ids; ids of notifications only with `withIds`). */
export function reportText(r: SimulationReport, withIds = false): string {
  const lines = [
    `Proposed agreement ${r.agreement.id}@${r.agreement.version} (sha256:${r.agreement.sha256})${r.area ? ` for area ${r.area}` : ''}${
      r.since ? ` since ${r.since}` : ''
    }`,
    `Read ${r.read} stored notifications; the proposal governs ${r.governed}; ${r.changed} decisions would change.`,
    ...(r.purged !== undefined ? [`Skipped ${r.purged} notifications whose records were purged under retention.`] : []),
    '',
    'Per rule (decided now → would decide; changed away / changed to):',
    ...r.byRule.map((x) => `  ${x.ruleId}: ${x.now} → ${x.proposed} (−${x.changedFrom} / +${x.changedTo})`),
    '',
    'Per centre (governed; would change):',
    ...r.byCentre.map(
      (c) => `  ${c.centre}: ${c.governed}; ${c.changed}${withIds && c.changed > 0 ? ` [${c.notificationIds.join(', ')}]` : ''}`,
    ),
    '',
    'Changes:',
    ...(r.changes.length === 0
      ? ['  none']
      : r.changes.map(
          (c) =>
            `  ${c.count} × ${c.from.ruleId} (${c.from.effect}${c.from.dataset ? `, ${c.from.dataset}` : ''}) → ${c.to.ruleId} (${c.to.effect}${
              c.to.dataset ? `, ${c.to.dataset}` : ''
            })`,
        )),
  ];
  return lines.join('\n');
}
