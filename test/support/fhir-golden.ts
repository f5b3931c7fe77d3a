import type { FhirAssessment } from '../../src/pipeline/fhir/assess-fhir.js';
import type { JsonValue } from '../../src/pipeline/fhir/fhir-xml.js';

/** A JSON value without its `diagnostics` (free text, not compared by golden files), at any depth. */
function withoutDiagnostics(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(withoutDiagnostics);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => k !== 'diagnostics')
      .map(([k, x]) => [k, withoutDiagnostics(x)]),
  );
}

/**
 * What a FHIR golden file holds (R4 and NEMS alike): the decision, the canonical record, the issues without
 * their words, and the answer the sender got (`answer`, made by the caller's own answer function).
 */
export function goldenComparable(a: FhirAssessment, answer: JsonValue): unknown {
  return {
    status: a.status,
    httpStatus: a.httpStatus,
    ...(a.reason !== undefined && a.status !== 'quarantined' ? { reason: a.reason } : {}),
    issues: a.issues.map(({ diagnostics: _d, ...rest }) => rest),
    ...(a.notification ? { canonical: a.notification } : {}),
    answer: withoutDiagnostics(answer),
  };
}
