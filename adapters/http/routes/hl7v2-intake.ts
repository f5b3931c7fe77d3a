import express, { Router } from 'express';
import type { Hl7v2Intake } from '../../../src/intake/hl7v2-intake.js';
import { clientOf, grantOf, requireRole } from '../auth.js';
import { sendProblem } from '../problem.js';

const HL7_TYPES = ['x-application/hl7-v2+er7', 'application/hl7-v2', 'application/hl7-v2+er7', 'text/plain'];

/**
 * `POST /v1/hl7v2`: one ER7 message per request, answered with its ACK. The HTTP status follows the ACK:
 * 200 when the message is stored (AA, AE or AR are all answers), 503 when the store is down (resend),
 * 403 when a feed client sends for another trust's facility (stored in quarantine all the same).
 */
export function hl7v2IntakeRoutes(intake: Hl7v2Intake, maxBytes: number): Router {
  const router = Router();
  router.post('/v1/hl7v2', requireRole('feed', 'admin'), express.raw({ type: HL7_TYPES, limit: maxBytes }), async (req, res) => {
    if (!Buffer.isBuffer(req.body)) {
      sendProblem(res, 415, 'Unsupported media type', `Send the message as one of: ${HL7_TYPES.join(', ')}`);
      return;
    }
    if (req.body.length === 0) {
      sendProblem(res, 400, 'Empty body', 'The request body must hold one HL7 v2 message in ER7 encoding');
      return;
    }
    const client = clientOf(res);
    const result = await intake.receive({
      bytes: req.body,
      channel: 'http',
      apiClientId: client.id,
      ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
      ...(client.role === 'feed' && client.scope !== undefined ? { authorisedFacility: client.scope } : {}),
      ...grantOf(client),
    });
    const status = !result.stored ? 503 : result.forbidden ? 403 : 200;
    if (result.messageId) res.set('X-Stork-Message-Id', result.messageId);
    if (!result.stored) res.set('Retry-After', '5');
    res
      .status(status)
      .type('x-application/hl7-v2+er7')
      .send(result.ack ?? '');
  });
  return router;
}
