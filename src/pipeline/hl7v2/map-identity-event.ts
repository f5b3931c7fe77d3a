/**
 * HL7 v2 identity events → the canonical IdentityEvent (src/domain/identity-event.ts), as the mapping's
 * `identityEvents` section says: A40 (and A34/A36/A39) merges, A24 links, A37 unlinks. Pure, never throws (the
 * caller, mapHl7v2, turns an exception into its `internal` outcome).
 *
 * - A merge pairs the n-th PID with the n-th MRG (the ADT_A39 structure repeats PID, PD1, MRG, PV1 per patient):
 *   the PID's identifiers survive, the MRG's are merged into them. A PID without its MRG, or an MRG naming no
 *   identifier, is an error at MRG-1 (HL7 101), so the sender gets an AE with an ERR naming MRG-1.
 * - A link or unlink reads the first two PIDs (ADT_A24: PID, PD1, PV1, DB1, PID, …). Fewer than two is an error
 *   at the second PID.
 * - Identifiers are read as births read them: CX.4 `NHS` is the NHS number (checked: a number failing its check
 *   digit is an error at that field, as for a birth); other national authorities (HSNI, CHI) are skipped; a
 *   repetition with neither an assigning authority nor a type is skipped (as identifiersFromCx does), so the keys
 *   an A40 names are the keys the same trust's births were stored under.
 */
import type { LocalIdentifier } from '../../domain/birth-notification.js';
import type { IdentityEvent, MergePair, PatientIdentifiers } from '../../domain/identity-event.js';
import { identityKeys } from '../../domain/identity-event.js';
import { Hl7ErrorCode, type Hl7Location, type Issue } from '../../domain/issue.js';
import { parseNhsNumber } from '../../domain/nhs-number.js';
import type { CompiledIdentityCriteria } from './build-mappings.js';
import { Hl7Reader, type SegmentRef } from './hl7-reader.js';
import type { MapOutcome } from './map-outcome.js';

const NATIONAL_ELSEWHERE = new Set(['HSNI', 'CHI']);
const upper = (s: string | undefined): string => (s ?? '').trim().toUpperCase();

const error = (code: Hl7ErrorCode, message: string, location: Hl7Location): Issue => ({ severity: 'error', code, message, location });

type Sources = CompiledIdentityCriteria['patientIdentifiers'];

/** The identifiers the sources name in one segment occurrence; errors (an NHS number failing its check) go to `issues`. */
function identifiersIn(reader: Hl7Reader, seg: SegmentRef, sources: Sources, issues: Issue[]): PatientIdentifiers {
  let nhsNumber: string | undefined;
  const local: LocalIdentifier[] = [];
  for (const source of sources) {
    if (source.segment !== seg.type) continue;
    for (const rep of reader.repetitions(seg, source.field)) {
      const value = rep.value(1)?.trim();
      if (value === undefined || value === '') continue;
      const sent = upper(rep.value(4));
      const assigner = sent !== '' ? sent : (source.assigner ?? '');
      const type = rep.value(5)?.trim();
      if (assigner === 'NHS') {
        const parsed = parseNhsNumber(value);
        if (!parsed.ok) {
          issues.push(
            error(
              Hl7ErrorCode.DataTypeError,
              `${seg.type}-${source.field}: the NHS number ${parsed.reason === 'shape' ? 'is not ten digits' : 'fails its check digit'}`,
              rep.location(1),
            ),
          );
          continue;
        }
        nhsNumber ??= parsed.value;
        continue;
      }
      if (NATIONAL_ELSEWHERE.has(assigner)) continue;
      if (assigner === '' && !type) continue;
      if (local.some((l) => l.value === value && (l.assigner ?? '') === assigner)) continue;
      local.push({ value, ...(assigner !== '' ? { assigner: rep.value(4)?.trim() ?? assigner } : {}), ...(type ? { type } : {}) });
    }
  }
  return { ...(nhsNumber !== undefined ? { nhsNumber } : {}), local };
}

const isEmpty = (ids: PatientIdentifiers): boolean => ids.nhsNumber === undefined && ids.local.length === 0;

/** The merged patient's identifiers that are not also the surviving patient's (an A40 may repeat the NHS number). */
function withoutSurviving(merged: PatientIdentifiers, surviving: PatientIdentifiers): PatientIdentifiers {
  const keep = merged.nhsNumber !== undefined && merged.nhsNumber !== surviving.nhsNumber ? { nhsNumber: merged.nhsNumber } : {};
  const local = merged.local.filter(
    (l) => !surviving.local.some((s) => s.value === l.value && (s.assigner ?? '').toUpperCase() === (l.assigner ?? '').toUpperCase()),
  );
  return { ...keep, local };
}

/**
 * Maps an identity event of kind `kind`. `event` is `ADT^A40` as sent; `feedId` scopes local identifiers.
 */
export function mapIdentityEvent(
  text: string,
  kind: 'merge' | 'link' | 'unlink',
  criteria: CompiledIdentityCriteria,
  ctx: { feedId: string; event: string },
): MapOutcome {
  const read = Hl7Reader.read(text, new Set(['MSH', 'PID', 'MRG']));
  if (!read.ok) return { kind: 'invalid', issues: [read.issue] };
  const reader = read.reader;
  const source = { feedId: ctx.feedId, messageControlId: reader.first({ segment: 'MSH', field: 10 })?.trim() ?? '', event: ctx.event };
  const pids = reader.segments('PID');
  const issues: Issue[] = [];
  const patient = (seg: SegmentRef): PatientIdentifiers => {
    const ids = identifiersIn(reader, seg, criteria.patientIdentifiers, issues);
    if (isEmpty(ids) && !issues.some((i) => i.location?.segment === 'PID' && i.location.sequence === seg.sequence)) {
      const at = criteria.patientIdentifiers[0]?.field ?? 3;
      issues.push(
        error(Hl7ErrorCode.RequiredFieldMissing, `PID-${at}: the patient's identifiers are missing`, {
          segment: 'PID',
          sequence: seg.sequence,
          field: at,
        }),
      );
    }
    return ids;
  };
  if (pids.length === 0) {
    return { kind: 'invalid', issues: [error(Hl7ErrorCode.SegmentSequence, 'PID segment is missing', { segment: 'PID' })] };
  }

  if (kind === 'merge') {
    const mrgs = reader.segments('MRG');
    const merges: MergePair[] = [];
    const priorField = criteria.priorIdentifiers[0]?.field ?? 1;
    pids.forEach((pid, i) => {
      const surviving = patient(pid);
      const mrg = mrgs[i];
      const at: Hl7Location = { segment: 'MRG', sequence: i + 1, field: priorField };
      if (mrg === undefined) {
        issues.push(
          error(
            Hl7ErrorCode.RequiredFieldMissing,
            `MRG-${priorField}: the merged (prior) patient's identifiers are missing (no MRG segment)`,
            at,
          ),
        );
        return;
      }
      const before = issues.length;
      const prior = identifiersIn(reader, mrg, criteria.priorIdentifiers, issues);
      if (issues.length > before) return;
      if (isEmpty(prior)) {
        issues.push(
          error(Hl7ErrorCode.RequiredFieldMissing, `MRG-${priorField}: the merged (prior) patient's identifiers are missing`, at),
        );
        return;
      }
      const merged = withoutSurviving(prior, surviving);
      if (isEmpty(merged)) {
        issues.push(
          error(Hl7ErrorCode.ApplicationError, `MRG-${priorField}: names only identifiers the surviving patient (PID-3) already has`, at),
        );
        return;
      }
      merges.push({ surviving, merged });
    });
    if (issues.length > 0) return { kind: 'invalid', issues };
    const event: IdentityEvent = { kind: 'merge', merges, source };
    return { kind: 'identity', event, issues: [] };
  }

  const [firstPid, secondPid] = pids;
  if (firstPid === undefined || secondPid === undefined) {
    return {
      kind: 'invalid',
      issues: [
        error(Hl7ErrorCode.SegmentSequence, 'a link names two patients: the second PID segment is missing', {
          segment: 'PID',
          sequence: 2,
        }),
      ],
    };
  }
  const first = patient(firstPid);
  const second = patient(secondPid);
  if (issues.length > 0) return { kind: 'invalid', issues };
  const firstKeys = new Set(identityKeys(first, ctx.feedId));
  if (identityKeys(second, ctx.feedId).some((k) => firstKeys.has(k))) {
    return {
      kind: 'invalid',
      issues: [
        error(Hl7ErrorCode.ApplicationError, 'the two PID segments name the same patient: nothing to link', {
          segment: 'PID',
          sequence: 2,
          field: 3,
        }),
      ],
    };
  }
  return { kind: 'identity', event: { kind, first, second, source }, issues: [] };
}
