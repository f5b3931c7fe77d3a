/**
 * An expected problem with an input, as data. Pipeline stages return issues instead of throwing;
 * the ACK builder turns them into ERR segments, the HTTP layer into problem details.
 * Issue messages travel to other parties, so they name fields and rules, never personal data.
 */

/** HL7 v2 table 0357 (message error condition codes) used by Stork. */
export const Hl7ErrorCode = {
  SegmentSequence: '100',
  RequiredFieldMissing: '101',
  DataTypeError: '102',
  TableValueNotFound: '103',
  UnsupportedMessageType: '200',
  UnsupportedEvent: '201',
  UnsupportedProcessingId: '202',
  UnsupportedVersion: '203',
  UnknownKey: '204',
  DuplicateKey: '205',
  ApplicationError: '207',
} as const;
export type Hl7ErrorCode = (typeof Hl7ErrorCode)[keyof typeof Hl7ErrorCode];

/** Where in an HL7 v2 message an issue sits (ERR-2 / ERR-1 "error location"). */
export interface Hl7Location {
  segment: string;
  /** 1-based occurrence of the segment in the message. */
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
}

export interface Issue {
  severity: 'error' | 'warning';
  code: Hl7ErrorCode;
  /** Plain words for the sender or operator; never contains personal data. */
  message: string;
  location?: Hl7Location;
  /** Path in the canonical record, e.g. `baby.nhsNumber`, where the issue concerns a mapped field. */
  path?: string;
  /** FHIR input only: the OperationOutcome issue-type code sent back (`code` holds the nearest HL7 one). */
  fhirCode?: string;
  /** FHIR input only: the FHIRPath of the element at fault, as sent back in OperationOutcome.issue.expression. */
  expression?: string;
}

export function issue(code: Hl7ErrorCode, message: string, extra: Partial<Omit<Issue, 'code' | 'message'>> = {}): Issue {
  return { severity: 'error', code, message, ...extra };
}

/** "PID-3.1" style rendering of a location, for logs and API responses. */
export function formatLocation(loc: Hl7Location): string {
  let s = loc.segment;
  if (loc.field !== undefined) s += `-${loc.field}`;
  if (loc.component !== undefined) s += `.${loc.component}`;
  return s;
}

export function hasErrors(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}
