import type { Response } from 'express';

/** One field-level problem in an RFC 9457 problem document. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** FHIR issue-type codes (http://hl7.org/fhir/issue-type) for the HTTP statuses the API answers with. */
const ISSUE_CODE: Record<number, string> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  405: 'not-supported',
  409: 'conflict',
  413: 'too-long',
  415: 'not-supported',
  429: 'throttled',
  503: 'transient',
};

/**
 * Marks a request whose client asked for FHIR (Accept: application/fhir+json): its errors are then answered as
 * an OperationOutcome instead of a problem document.
 */
export function answerErrorsAsFhir(res: Response): void {
  res.locals.answerErrorsAsFhir = true;
}

/**
 * Sends `application/problem+json`: every error a client gets says what was wrong and, where it can, which field.
 * For a client that asked for FHIR (see `answerErrorsAsFhir`), the same error as an `application/fhir+json`
 * OperationOutcome: one issue for the error, and one per field problem with the field named in diagnostics.
 */
export function sendProblem(res: Response, status: number, title: string, detail?: string, errors?: FieldProblem[]): void {
  if (res.locals.answerErrorsAsFhir === true) {
    const code = ISSUE_CODE[status] ?? 'exception';
    const issue = [
      { severity: 'error', code, diagnostics: detail ? `${title}: ${detail}` : title },
      ...(errors ?? []).map((e) => ({ severity: 'error', code, diagnostics: `${e.field}: ${e.message}` })),
    ];
    res.status(status).type('application/fhir+json').json({ resourceType: 'OperationOutcome', issue });
    return;
  }
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...(errors ? { errors } : {}) });
}
