import type { Database, SqlClient } from '../../src/ports/database.js';
import type { AuditActor, AuditEventInput } from '../../src/ports/audit.js';
import { centreActor } from '../../src/processing/inbox-events.js';
import type { FamilySubjects, FamilyViewStore, NamedWorkerResult } from '../../src/ports/family-view.js';
import {
  centreFamilyView,
  type CentreFamily,
  type CentreItem,
  type FamilyChild,
  type FamilyFacts,
} from '../../src/pipeline/family-disclosure.js';
import type { DisclosedRecord } from '../../src/pipeline/consent/decide.js';
import { insertAuditEvents, iso } from './sql-helpers.js';
import { NO_DATA_KEYS, type DataCipher } from './data-cipher.js';
import { sealedPlace } from './sealed-columns.js';
import { currentRecord } from './sql-notification-rows.js';

/** How many `merged_into` steps a stale family id is followed (A40 and review merges chain rarely, never in loops). */
const MAX_MERGE_HOPS = 8;

interface FamilyRow {
  id: string;
  centre: string | null;
  named_worker: string | null;
  named_worker_centre: string | null;
  named_worker_at: Date | string | null;
  merged_into: string | null;
}

interface ItemRow {
  notification_id: string;
  status: CentreItem['status'];
  delivered_at: Date | string;
  disclosed: unknown;
  subject: string | null;
}

interface ChildRow {
  child_key: string;
  notification_id: string | null;
  record: unknown;
  effect: string | null;
  status: string | null;
  subject: string | null;
}

const EFFECTS = new Set(['permit', 'deny', 'review']);
const STATUSES = new Set(['routed', 'delivered', 'withheld', 'withdrawn']);

function toChild(r: ChildRow, familyId: string, cipher: DataCipher): FamilyChild {
  const record = (cipher.openJson(r.record, sealedPlace.child(familyId, r.child_key)) ?? {}) as FamilyChild['record'];
  const child: FamilyChild = { childKey: r.child_key, record };
  if (r.notification_id !== null) child.notificationId = r.notification_id;
  if (r.effect !== null && r.status !== null && EFFECTS.has(r.effect) && STATUSES.has(r.status)) {
    child.notification = {
      effect: r.effect as NonNullable<FamilyChild['notification']>['effect'],
      status: r.status as NonNullable<FamilyChild['notification']>['status'],
    };
  }
  return child;
}

/** The centre's reads of whole families, over the family tables of migration 014 and the centre's inbox. */
export class SqlFamilyViewStore implements FamilyViewStore {
  constructor(
    private readonly db: Database,
    private readonly cipher: DataCipher = NO_DATA_KEYS,
  ) {}

  async familyForCentre(inboxId: string, familyId: string, reader: AuditActor, at: Date): Promise<CentreFamily | undefined> {
    return this.db.transaction(async (tx) => {
      const found = await this.facts(tx, inboxId, familyId, false);
      if (found === undefined) return undefined;
      const view = centreFamilyView(inboxId, found.facts);
      if (view === undefined) return undefined;
      const events: AuditEventInput[] = view.shownNotificationIds.map((id) => {
        const who = centreActor(reader);
        const subject = found.subjects.get(id);
        return {
          at,
          ...who,
          action: 'read',
          notificationId: id,
          recipient: inboxId,
          ...(subject !== undefined ? { subjectNhsNumber: subject } : {}),
          details: { ...who.details, familyId: view.familyId, view: 'family' },
        };
      });
      await insertAuditEvents(tx, events, this.cipher);
      return view;
    });
  }

  async assignNamedWorker(
    inboxId: string,
    familyId: string,
    worker: string | undefined,
    by: AuditActor,
    at: Date,
  ): Promise<NamedWorkerResult> {
    return this.db.transaction(async (tx) => {
      const found = await this.facts(tx, inboxId, familyId, true);
      const view = found === undefined ? undefined : centreFamilyView(inboxId, found.facts);
      if (found === undefined || view === undefined) return 'not-found';
      const id = found.facts.familyId;
      if (worker === undefined) {
        // Only this centre's own assignment is cleared: another centre's named worker is not this centre's to remove.
        await tx.query(
          `UPDATE families SET named_worker = NULL, named_worker_centre = NULL, named_worker_at = NULL, updated_at = $3
           WHERE id = $1 AND named_worker_centre = $2`,
          [id, inboxId, at],
        );
      } else {
        await tx.query(
          `UPDATE families SET named_worker = $3, named_worker_centre = $2, named_worker_at = $4, updated_at = $4 WHERE id = $1`,
          [id, inboxId, worker, at],
        );
      }
      const who = centreActor(by);
      const newest = view.shownNotificationIds[0];
      await insertAuditEvents(
        tx,
        [
          {
            at,
            ...who,
            action: 'named-worker',
            recipient: inboxId,
            ...(newest !== undefined ? { notificationId: newest } : {}),
            outcome: worker === undefined ? 'cleared' : 'assigned',
            // The worker is a member of the centre's staff, not a family member: their name is what an IG lead needs.
            details: { ...who.details, familyId: id, ...(worker !== undefined ? { namedWorker: worker } : {}) },
          },
        ],
        this.cipher,
      );
      return worker === undefined ? 'cleared' : 'assigned';
    });
  }

  async familySubjects(inboxId: string, familyId: string): Promise<FamilySubjects | undefined> {
    return this.db.transaction(async (tx) => {
      const family = await this.resolve(tx, familyId, false);
      if (family === undefined) return undefined;
      const r = await tx.query<{
        id: string;
        message_id: string;
        record: unknown;
        canonical: unknown;
        mother: string | null;
        baby: string | null;
        live: boolean;
      }>(
        `SELECT n.id, n.message_id, n.record, b.canonical, n.mother_nhs_number AS mother, n.baby_nhs_number AS baby,
                i.status <> 'withdrawn' AS live
           FROM family_links fl
           JOIN inbox_items i ON i.notification_id = fl.notification_id AND i.inbox_id = $2
           JOIN notifications n ON n.id = fl.notification_id
           LEFT JOIN message_bodies b ON b.message_id = n.message_id
          WHERE fl.family_id = $1
          ORDER BY i.delivered_at DESC, n.id`,
        [family.id, inboxId],
      );
      if (r.rows.length === 0) return undefined;
      // The columns hold pseudonyms (migration 038): the numbers are the decrypted records'.
      const numbers = r.rows.map((x) => {
        const record = x.record === null && x.canonical === null ? null : currentRecord(this.cipher, x);
        return {
          mother: x.mother === null ? null : this.cipher.reveal(x.mother, [record?.mother?.nhsNumber]),
          baby: x.baby === null ? null : this.cipher.reveal(x.baby, [record?.baby.nhsNumber]),
        };
      });
      const distinct = (xs: (string | null)[]): string[] => [...new Set(xs.filter((x): x is string => x !== null))];
      return {
        familyId: family.id,
        motherNhsNumbers: distinct(numbers.map((x) => x.mother)),
        babyNhsNumbers: distinct(numbers.map((x) => x.baby)),
        live: r.rows.some((x) => x.live),
      };
    });
  }

  /** The family, following merges to the surviving one; undefined when not found or still merged after the last hop. */
  private async resolve(tx: SqlClient, familyId: string, lock: boolean): Promise<FamilyRow | undefined> {
    let family: FamilyRow | undefined;
    let id = familyId;
    for (let hop = 0; hop < MAX_MERGE_HOPS; hop++) {
      const r = await tx.query<FamilyRow>(
        `SELECT id, centre, named_worker, named_worker_centre, named_worker_at, merged_into FROM families WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
        [id],
      );
      family = r.rows[0];
      if (family?.merged_into == null) break;
      id = family.merged_into;
    }
    return family?.merged_into === null ? family : undefined;
  }

  /** The family (following merges to the surviving family) and this centre's facts about it, optionally locked. */
  private async facts(
    tx: SqlClient,
    inboxId: string,
    familyId: string,
    lock: boolean,
  ): Promise<{ facts: FamilyFacts; subjects: Map<string, string> } | undefined> {
    const family = await this.resolve(tx, familyId, lock);
    if (family === undefined) return undefined;
    const items = await tx.query<ItemRow>(
      `SELECT i.notification_id, i.status, i.delivered_at, n.disclosed, n.baby_nhs_number AS subject
         FROM family_links fl
         JOIN inbox_items i ON i.notification_id = fl.notification_id AND i.inbox_id = $2
         JOIN notifications n ON n.id = fl.notification_id
        WHERE fl.family_id = $1`,
      [family.id, inboxId],
    );
    const children = await tx.query<ChildRow>(
      `SELECT c.child_key, c.notification_id, c.record, n.decision ->> 'effect' AS effect, n.status, n.baby_nhs_number AS subject
         FROM family_children c LEFT JOIN notifications n ON n.id = c.notification_id
        WHERE c.family_id = $1`,
      [family.id],
    );
    const subjects = new Map<string, string>();
    for (const r of [...items.rows, ...children.rows]) {
      if (r.notification_id !== null && r.subject !== null) subjects.set(r.notification_id, r.subject);
    }
    const facts: FamilyFacts = {
      familyId: family.id,
      ...(family.centre !== null ? { centre: family.centre } : {}),
      items: items.rows.map((r) => ({
        notificationId: r.notification_id,
        status: r.status,
        deliveredAt: iso(r.delivered_at) ?? '',
        ...(r.status !== 'withdrawn' && r.disclosed !== null
          ? { disclosed: this.cipher.openJson(r.disclosed, sealedPlace.disclosed(r.notification_id)) as DisclosedRecord }
          : {}),
      })),
      children: children.rows.map((c) => toChild(c, family.id, this.cipher)),
    };
    if (family.named_worker !== null && family.named_worker_centre !== null) {
      facts.namedWorker = { name: family.named_worker, centre: family.named_worker_centre, at: iso(family.named_worker_at) ?? '' };
    }
    return { facts, subjects };
  }
}
