/**
 * Synthetic maternity bookings and pregnancy losses (issue 17) as the sample `maternity-booking` mapping reads them:
 * the booking's patient (PID) is the mother; the estimated due date is the OBX with OBX-3.1 LOINC 11778-8; PV1-19
 * the pregnancy; a CON segment with CON-2 ANTENATAL and CON-11 A her consent to antenatal contact.
 */
export interface ExpectingMotherFixture {
  nhs: string;
  family: string;
  given: string;
  /** YYYYMMDD */
  dob: string;
  postcode: string;
  language?: string;
}

/** A valid NHS number (modulus 11) from a nine-digit stem; a stem whose check digit would be 10 is stepped on. */
export function nhsNumberFrom(stem: number): string {
  for (let s = stem; ; s++) {
    const digits = String(s).padStart(9, '0').slice(-9);
    const sum = digits.split('').reduce((acc, d, i) => acc + Number(d) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${digits}${check === 11 ? 0 : check}`;
  }
}

/** A segment from its fields by number (1-based), the others empty. */
function seg(name: string, fields: Record<number, string>): string {
  const last = Math.max(...Object.keys(fields).map(Number));
  return [name, ...Array.from({ length: last }, (_, i) => fields[i + 1] ?? '')].join('|');
}

const MSH = (type: string, controlId: string): string =>
  `MSH|^~\\&|BOOKING|RX1|STORK|STORK|20261129101500||${type}|${controlId}|P|2.5.1|||AL|NE`;

const pid = (m: ExpectingMotherFixture): string => {
  const f: string[] = [
    'PID',
    '1',
    '',
    `${m.nhs}^^^NHS^NH~M${m.nhs.slice(0, 6)}^^^RX1^MR`,
    '',
    `${m.family}^${m.given}^^^MRS^^L`,
    '',
    m.dob,
    'F',
  ];
  f[11] = `2 Booking Road^^LEEDS^WEST YORKSHIRE^${m.postcode}^GBR^H`;
  f[13] = '07700900777';
  f[15] = m.language ?? 'EN';
  return Array.from({ length: f.length }, (_, i) => f[i] ?? '').join('|');
};

/** A booking (SIU^S12 by default, or ADT^A05): `dueDate` YYYYMMDD, or none; `consent` adds the CON segment. */
export function bookingMessage(
  m: ExpectingMotherFixture,
  o: { controlId: string; dueDate?: string; pregnancyId?: string; consent?: 'A' | 'R'; type?: 'SIU^S12' | 'ADT^A05' },
): string {
  const segs = [
    MSH(o.type ?? 'SIU^S12', o.controlId),
    ...(o.type === 'ADT^A05' ? ['EVN|A05|20261129101500'] : ['SCH|1|1||||BOOKING^Antenatal booking']),
    pid(m),
    'PD1|||Leeds Road Surgery^^B86001',
    seg('PV1', { 1: '1', 2: 'O', 19: o.pregnancyId ?? '' }),
    ...(o.dueDate !== undefined ? [`OBX|1|DT|11778-8^Delivery date Estimated^LN||${o.dueDate}||||||F`] : []),
    ...(o.consent !== undefined ? [seg('CON', { 1: '1', 2: 'ANTENATAL', 11: o.consent })] : []),
  ];
  return segs.join('\r');
}

/** A pregnancy loss as ADT^A38 (cancel pre-admit), or ADT^A08 carrying a SNOMED CT outcome code. */
export function lossMessage(m: ExpectingMotherFixture, o: { controlId: string; pregnancyId?: string; outcomeCode?: string }): string {
  const type = o.outcomeCode === undefined ? 'ADT^A38' : 'ADT^A08';
  return [
    MSH(type, o.controlId),
    `EVN|${type.slice(4)}|20261129101500`,
    pid(m),
    seg('PV1', { 1: '1', 2: 'O', 19: o.pregnancyId ?? '' }),
    ...(o.outcomeCode !== undefined ? [`OBX|1|CE|63893-2^Pregnancy outcome^LN||${o.outcomeCode}^Outcome^SCT||||||F`] : []),
  ].join('\r');
}
