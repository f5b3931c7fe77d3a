import { Router } from 'express';
import type { MessageStatus, MessageStore } from '../../../src/ports/message-store.js';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import { replayMessage, type ReplayDeps } from '../../../src/intake/replay-message.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { pageLimit, routeParam } from './paging.js';

const STATUSES: readonly MessageStatus[] = ['queued', 'processed', 'not-relevant', 'quarantined', 'duplicate'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The operators' view of received messages. A `feed` client sees its own feed's messages (metadata only);
 * `admin` sees all, and only `admin` gets the raw body, which is audited as a read of personal data.
 */
export function messageRoutes(store: MessageStore, audit: AuditLog, replay: ReplayDeps, feedIdsForFacility: (ods: string) => string[]): Router {
  const router = Router();
  router.get('/v1/messages', requireRole('admin', 'feed'), async (req, res) => {
    const client = clientOf(res);
    const status = typeof req.query['status'] === 'string' ? req.query['status'] : undefined;
    let feedId = typeof req.query['feed'] === 'string' ? req.query['feed'] : undefined;
    if (status !== undefined && !STATUSES.includes(status as MessageStatus)) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'status', message: `must be one of ${STATUSES.join(', ')}` }]);
      return;
    }
    const limit = pageLimit(req.query['limit']);
    if (limit === undefined) {
      sendProblem(res, 400, 'Invalid query', undefined, [{ field: 'limit', message: 'must be an integer from 1 to 500' }]);
      return;
    }
    if (client.role === 'feed') {
      const own = feedIdsForFacility(client.scope ?? '');
      if (feedId !== undefined && !own.includes(feedId)) {
        sendProblem(res, 403, 'Forbidden', 'A feed client sees only its own feed');
        return;
      }
      feedId = feedId ?? own[0] ?? '-';
    }
    const after = typeof req.query['after'] === 'string' ? req.query['after'] : undefined;
    const page = await store.list({ limit, ...(status ? { status: status as MessageStatus } : {}), ...(feedId ? { feedId } : {}), ...(after ? { after } : {}) });
    res.json(page);
  });

  router.get('/v1/messages/:id', requireRole('admin', 'feed'), async (req, res) => {
    const client = clientOf(res);
    const id = routeParam(req.params, 'id');
    const message = UUID.test(id) ? await store.get(id) : undefined;
    if (!message || (client.role === 'feed' && !feedIdsForFacility(client.scope ?? '').includes(message.feedId ?? ''))) {
      sendProblem(res, 404, 'Not found', 'No message with this id');
      return;
    }
    const { raw, canonical, senderKey, ...metadata } = message;
    void canonical;
    void senderKey;
    if (client.role !== 'admin') {
      res.json(metadata);
      return;
    }
    await audit.append([{ at: new Date(), actor: `client:${client.id}`, action: 'raw-read', messageId: id }]);
    res.json({ ...metadata, raw: raw.toString('utf8') });
  });

  router.post('/v1/messages/:id/replay', requireRole('admin'), async (req, res) => {
    const id = routeParam(req.params, 'id');
    if (!UUID.test(id)) {
      sendProblem(res, 404, 'Not found', 'No message with this id');
      return;
    }
    const result = await replayMessage(replay, id, `client:${clientOf(res).id}`);
    if (result.kind === 'not-found') sendProblem(res, 404, 'Not found', 'No message with this id');
    else if (result.kind === 'conflict') sendProblem(res, 409, 'Cannot replay', result.detail);
    else res.json({ id, status: result.status, ...(result.reason ? { reason: result.reason } : {}) });
  });
  return router;
}
