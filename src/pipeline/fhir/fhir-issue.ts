import { Hl7ErrorCode, type Issue } from '../../domain/issue.js';

/** FHIR R4 issue-type codes Stork answers with (http://hl7.org/fhir/issue-type). */
export type FhirIssueCode =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'security'
  | 'forbidden'
  | 'not-supported'
  | 'code-invalid'
  | 'too-costly'
  | 'transient'
  | 'exception'
  | 'duplicate'
  | 'not-found'
  | 'informational';

/**
 * One problem with a FHIR message, as data: the OperationOutcome issue it becomes (severity, code,
 * diagnostics, expression) and, when it concerns a mapped field, the canonical path. The diagnostics travel
 * to the sender: they name elements and rules, never personal data.
 */
export interface FhirIssue {
  severity: 'fatal' | 'error' | 'warning' | 'information';
  code: FhirIssueCode;
  diagnostics: string;
  /** FHIRPath of the element at fault, e.g. `Bundle.entry[1].resource.identifier[0].value`. */
  expression?: string;
  /** Path in the canonical record, e.g. `baby.nhsNumber`. */
  path?: string;
}

export function fhirIssue(code: FhirIssueCode, diagnostics: string, expression?: string, extra: Partial<FhirIssue> = {}): FhirIssue {
  return { severity: 'error', code, diagnostics, ...(expression !== undefined ? { expression } : {}), ...extra };
}

const TO_HL7: Record<FhirIssueCode, Hl7ErrorCode> = {
  invalid: Hl7ErrorCode.DataTypeError,
  structure: Hl7ErrorCode.SegmentSequence,
  required: Hl7ErrorCode.RequiredFieldMissing,
  value: Hl7ErrorCode.DataTypeError,
  invariant: Hl7ErrorCode.DataTypeError,
  security: Hl7ErrorCode.ApplicationError,
  forbidden: Hl7ErrorCode.ApplicationError,
  'not-supported': Hl7ErrorCode.UnsupportedEvent,
  'code-invalid': Hl7ErrorCode.TableValueNotFound,
  'too-costly': Hl7ErrorCode.ApplicationError,
  transient: Hl7ErrorCode.ApplicationError,
  exception: Hl7ErrorCode.ApplicationError,
  duplicate: Hl7ErrorCode.DuplicateKey,
  'not-found': Hl7ErrorCode.TableValueNotFound,
  informational: Hl7ErrorCode.ApplicationError,
};

/** The stored form (messages.issues, shared with HL7 v2): the nearest HL7 error code, and the FHIR code and FHIRPath kept. */
export function toStoredIssue(i: FhirIssue): Issue {
  return {
    severity: i.severity === 'warning' || i.severity === 'information' ? 'warning' : 'error',
    code: TO_HL7[i.code],
    message: i.diagnostics,
    fhirCode: i.code,
    ...(i.expression !== undefined ? { expression: i.expression } : {}),
    ...(i.path !== undefined ? { path: i.path } : {}),
  };
}

/** The FHIR issue for a canonical-record issue (validation), at the FHIRPath the mapping read that field from. */
export function fromCanonicalIssue(i: Issue, locate: (path: string) => string | undefined): FhirIssue {
  const expression = i.path !== undefined ? locate(i.path) : undefined;
  const code: FhirIssueCode = i.code === Hl7ErrorCode.RequiredFieldMissing ? 'required' : 'value';
  return {
    severity: i.severity,
    code,
    diagnostics: i.message,
    ...(expression !== undefined ? { expression } : {}),
    ...(i.path !== undefined ? { path: i.path } : {}),
  };
}

export const hasFhirErrors = (issues: readonly FhirIssue[]): boolean =>
  issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
