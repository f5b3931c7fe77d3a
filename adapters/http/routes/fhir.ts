import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { FhirIntake } from '../../../src/intake/fhir-intake.js';
import { fhirIssue, type FhirIssue } from '../../../src/pipeline/fhir/fhir-issue.js';
import type { JsonObject } from '../../../src/pipeline/fhir/fhir-xml.js';
import { FHIR_MEDIA_TYPES, operationOutcome, serialise, type FhirEncoding } from '../../../src/pipeline/fhir/fhir-response.js';
import { clientOf, grantOf, requireRole } from '../auth.js';

const JSON_TYPES = ['application/fhir+json', 'application/json+fhir', 'application/json'];
const XML_TYPES = ['application/fhir+xml', 'application/xml+fhir', 'application/xml', 'text/xml'];

/** The encoding a media type names, if it is one of FHIR's. */
function encodingOf(type: string | undefined): FhirEncoding | undefined {
  const t = (type ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (JSON_TYPES.includes(t)) return 'json';
  if (XML_TYPES.includes(t)) return 'xml';
  return undefined;
}

/** The answer's encoding: what Accept asks for (json or xml), else the body's own. */
function answerEncoding(req: Request, body: FhirEncoding): FhirEncoding {
  const accepted = req.accepts([...JSON_TYPES, ...XML_TYPES]);
  const asked =
    typeof accepted === 'string' && req.get('accept') !== undefined && req.get('accept') !== '*/*' ? encodingOf(accepted) : undefined;
  return asked ?? body;
}

function sendOutcome(res: Response, status: number, issue: FhirIssue, encoding: FhirEncoding = 'json'): void {
  res
    .status(status)
    .type(FHIR_MEDIA_TYPES[encoding])
    .send(serialise(operationOutcome([issue]), encoding));
}

/**
 * `POST /v1/fhir/$process-message`: one FHIR R4 message Bundle per request, JSON or XML, answered with a
 * response message Bundle (200) or an OperationOutcome: 400 unreadable, 403 a client sending for a feed that
 * is not its own, 422 a message Stork cannot accept, 503 the store is down (resend). Whatever the hub can
 * read as a request body is stored before it is answered; a body it never receives (wrong media type, over
 * the size limit, empty) is answered without being stored, as for HL7 v2 over HTTP.
 */
export function fhirIntakeRoutes(intake: FhirIntake, maxBytes: number): Router {
  const router = Router();
  router.post(
    '/v1/fhir/$process-message',
    requireRole('feed', 'admin'),
    express.raw({ type: [...JSON_TYPES, ...XML_TYPES], limit: maxBytes }),
    async (req, res) => {
      const encoding = encodingOf(req.get('content-type'));
      if (!Buffer.isBuffer(req.body) || encoding === undefined) {
        sendOutcome(
          res,
          415,
          fhirIssue('not-supported', `Send the message as ${FHIR_MEDIA_TYPES.json} or ${FHIR_MEDIA_TYPES.xml}`, undefined, {
            severity: 'fatal',
          }),
        );
        return;
      }
      if (req.body.length === 0) {
        sendOutcome(
          res,
          400,
          fhirIssue('required', 'The request body must hold one FHIR message Bundle', undefined, { severity: 'fatal' }),
          encoding,
        );
        return;
      }
      const client = clientOf(res);
      const result = await intake.receive({
        bytes: req.body,
        encoding,
        answerEncoding: answerEncoding(req, encoding),
        apiClientId: client.id,
        ...(client.via === 'jwt' && client.role === 'feed' && client.scope !== undefined ? { authorisedFeedId: client.scope } : {}),
        ...grantOf(client),
        ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
      });
      if (result.messageId) res.set('X-Stork-Message-Id', result.messageId);
      if (result.httpStatus === 503) res.set('Retry-After', '5');
      res.status(result.httpStatus).type(result.contentType).send(result.body);
    },
  );
  // The body parser's refusals, answered as FHIR does (an OperationOutcome), not as problem+json.
  router.use('/v1/fhir', (err: Error & { type?: string; status?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err.type === 'entity.too.large') {
      sendOutcome(res, 413, fhirIssue('too-costly', `The body is over the limit of ${maxBytes} bytes`, undefined, { severity: 'fatal' }));
      return;
    }
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      sendOutcome(res, 400, fhirIssue('structure', 'The request could not be read', undefined, { severity: 'fatal' }));
      return;
    }
    next(err);
  });
  return router;
}

/**
 * `GET /v1/fhir/metadata`: the CapabilityStatement of what Stork accepts, served without a key (it holds no
 * data, and FHIR clients read it before anything else), in JSON or XML by Accept.
 */
export function fhirMetadataRoutes(capability: JsonObject): Router {
  const router = Router();
  const bodies = { json: serialise(capability, 'json'), xml: serialise(capability, 'xml') };
  router.get('/v1/fhir/metadata', (req, res) => {
    const encoding = answerEncoding(req, 'json');
    res.type(FHIR_MEDIA_TYPES[encoding]).set('Cache-Control', 'public, max-age=300').send(bodies[encoding]);
  });
  return router;
}
