import type { MllpClient } from '../../adapters/mllp/mllp-client.js';
import { pollUntil } from './poll.js';
import { api, type TestHub } from './test-hub.js';

/** An audit event as `GET /v1/audit` gives it. */
export interface AuditItem {
  action: string;
  actor: string;
  notificationId?: string;
  recipient?: string;
  ruleId?: string;
  lawfulBasis?: string;
  outcome?: string;
  details?: Record<string, unknown>;
}

/** A centre's inbox item as its API gives it. */
export interface CentreItem {
  notificationId: string;
  status: string;
  deliveredAt: string;
  updatedAt?: string;
  acknowledgedAt?: string;
  withdrawnAt?: string;
  record?: { dataset: string; baby: { nhsNumber?: string }; birthDetails?: { weightGrams?: number; gestationWeeks?: number } };
}

/** A centre's inbox id and API key. */
export type Centre = readonly [string, string];

/** Sends an HL7 v2 message and expects it accepted (ACK CA). */
export async function sendAccepted(client: MllpClient, text: string): Promise<void> {
  const ack = await client.send(text);
  expect(ack.split('\r')[1]?.split('|')[1]).toBe('CA');
}

/** The notification of a message (by its MSH-10) once processing has given it this status. */
export function notificationOf(
  t: TestHub,
  controlId: string,
  status: string,
): Promise<{ id: string; status: string; inbox_id: string | null }> {
  return pollUntil(async () => {
    const r = await t.database.db.query<{ id: string; status: string; inbox_id: string | null }>(
      `SELECT n.id, n.status, n.inbox_id FROM notifications n JOIN messages m ON m.id = n.message_id WHERE m.control_id = $1`,
      [controlId],
    );
    const row = r.rows[0];
    return row?.status === status ? row : undefined;
  }, `the notification of ${controlId} ${status}`);
}

/** Every audit event about this NHS number, read by the IG lead. */
export async function auditOf(t: TestHub, nhs: string): Promise<AuditItem[]> {
  const res = await api(t.http, 'demo-ig-key', `/v1/audit?subject=${nhs}&limit=500`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: AuditItem[] }).items;
}

/** One item of a centre's inbox, through the centre's own key. */
export async function centreItem(t: TestHub, [centre, key]: Centre, id: string): Promise<CentreItem> {
  const res = await api(t.http, key, `/v1/centres/${centre}/notifications/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as CentreItem;
}
