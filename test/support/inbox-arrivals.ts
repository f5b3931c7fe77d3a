import type { SqlClient } from '../../src/ports/database.js';
import { pseudo } from './data-keys.js';
import { pollUntil } from './poll.js';

/**
 * Waits until every one of these babies (clear NHS numbers) has reached a centre inbox, and returns how many inbox
 * items each has (`n`, as the driver gives it): the resilience tests expect exactly one each.
 */
export function inboxItemsPerBaby(
  db: SqlClient,
  nhsNumbers: readonly string[],
  what: string,
  timeoutMs: number,
): Promise<{ nhs: string; n: string | number }[]> {
  return pollUntil(
    async () => {
      const r = await db.query<{ nhs: string; n: string | number }>(
        `SELECT n.baby_nhs_number AS nhs, count(*) AS n FROM inbox_items i JOIN notifications n ON n.id = i.notification_id
          WHERE n.baby_nhs_number = ANY($1) GROUP BY n.baby_nhs_number`,
        [nhsNumbers.map((x) => pseudo(x))],
      );
      return r.rows.length === new Set(nhsNumbers).size ? r.rows : undefined;
    },
    what,
    timeoutMs,
  );
}
