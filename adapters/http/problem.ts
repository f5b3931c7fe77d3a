import type { Response } from 'express';

/** One field-level problem in an RFC 9457 problem document. */
export interface FieldProblem {
  field: string;
  message: string;
}

/** Sends `application/problem+json`: every error a client gets says what was wrong and, where it can, which field. */
export function sendProblem(res: Response, status: number, title: string, detail?: string, errors?: FieldProblem[]): void {
  res
    .status(status)
    .type('application/problem+json')
    .json({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...(errors ? { errors } : {}) });
}
