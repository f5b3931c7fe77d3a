import { Router } from 'express';
import type { MessageStatus, MessageStore } from '../../../src/ports/message-store.js';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import { replayMessage, type ReplayDeps } from '../../../src/intake/replay-message.js';
import { clientOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';
import { readStatusPage, routeParam, UUID } from './paging.js';

/** The longest purpose a raw read may state. */
const MAX_PURPOSE = 200;

const STATUSES: readonly MessageStatus[] = ['queued', 'processed', 'not-relevant', 'quarantined', 'duplicate'];

/**
 * The operators' view of received messages. A `feed` client sees its own feed's messages (metadata only);
 * `admin` sees all, and only `admin` gets the raw body, which is audited as a read of personal data; the IG role
 * gets a raw body only from `/v1/messages/{id}/raw`, stating a purpose that is audited with the read.
 */
export function messageRoutes(
  store: MessageStore,
  audit: AuditLog,
  replay: ReplayDeps,
  feedIdsForFacility: (ods: string) => string[],
): Router {
  const router = Router();
  router.get('/v1/messages', requireRole('admin', 'feed'), async (req, res) => {
    const client = clientOf(res);
    const page = readStatusPage(req.query, STATUSES, res);
    if (!page) return;
    let feedId = typeof req.query.feed === 'string' ? req.query.feed : undefined;
    if (client.role === 'feed') {
      const own = feedIdsForFacility(client.scope ?? '');
      if (feedId !== undefined && !own.includes(feedId)) {
        sendProblem(res, 403, 'Forbidden', 'A feed client sees only its own feed');
        return;
      }
      feedId = feedId ?? own[0] ?? '-';
    }
    const listed = await store.list({ ...page, ...(feedId ? { feedId } : {}) });
    await audit.append([
      {
        at: new Date(),
        actor: `client:${client.id}`,
        action: 'read',
        details: {
          query: 'messages',
          role: client.role,
          purpose: 'operations',
          ...(page.status ? { status: page.status } : {}),
          ...(feedId ? { feed: feedId } : {}),
          results: listed.items.length,
        },
      },
    ]);
    res.json(listed);
  });

  router.get('/v1/messages/:id', requireRole('admin', 'feed'), async (req, res) => {
    const client = clientOf(res);
    const id = routeParam(req.params, 'id');
    const message = UUID.test(id) ? await store.get(id) : undefined;
    if (!message || (client.role === 'feed' && !feedIdsForFacility(client.scope ?? '').includes(message.feedId ?? ''))) {
      sendProblem(res, 404, 'Not found', 'No message with this id');
      return;
    }
    const { raw, canonical, senderKey, apiClient, ...metadata } = message;
    // Purged under retention: its metadata and hash remain, its bytes do not; reading the metadata is a read.
    if (client.role !== 'admin' || metadata.purgedAt !== undefined) {
      await audit.append([
        {
          at: new Date(),
          actor: `client:${client.id}`,
          action: 'read',
          messageId: id,
          details: { role: client.role, purpose: 'operations' },
        },
      ]);
      res.json(metadata);
      return;
    }
    await audit.append([
      {
        at: new Date(),
        actor: `client:${client.id}`,
        action: 'raw-read',
        messageId: id,
        details: { role: client.role, purpose: 'operations' },
      },
    ]);
    res.json({ ...metadata, raw: raw.toString('utf8') });
  });

  // The raw body for a stated purpose (issue 16): the only way the IG role sees one; admins may use it too. The
  // purpose is required and audited with the read, never logged (it is free text).
  router.get('/v1/messages/:id/raw', requireRole('ig', 'admin'), async (req, res) => {
    const client = clientOf(res);
    const purpose = typeof req.query.purpose === 'string' ? req.query.purpose.trim() : '';
    if (purpose.length === 0 || purpose.length > MAX_PURPOSE) {
      sendProblem(res, 400, 'Invalid query', 'Say why the raw message is read', [
        { field: 'purpose', message: `must be 1 to ${MAX_PURPOSE} characters` },
      ]);
      return;
    }
    const id = routeParam(req.params, 'id');
    const message = UUID.test(id) ? await store.get(id) : undefined;
    if (!message || message.purgedAt !== undefined) {
      sendProblem(res, 404, 'Not found', 'No message with this id (or its bytes were purged)');
      return;
    }
    await audit.append([
      { at: new Date(), actor: `client:${client.id}`, action: 'raw-read', messageId: id, details: { role: client.role, purpose } },
    ]);
    res.json({ id, raw: message.raw.toString('utf8') });
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
