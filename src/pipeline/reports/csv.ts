/**
 * CSV for the IG lead's downloads (RFC 4180): fields separated by commas, records by CRLF, a field holding a comma,
 * a double quote, CR or LF enclosed in double quotes with its quotes doubled. A cell a spreadsheet would read as a
 * formula (starting with `=`, `+`, `-`, `@`, or a tab or carriage return, OWASP's list) is prefixed with a single
 * quote, so opening the file never runs anything.
 */

export type CsvCell = string | number | boolean | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell, safe for a spreadsheet and quoted where RFC 4180 needs it. Numbers are written as they are. */
export function csvCell(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A whole CSV document: the header, then one record per row, each ended by CRLF. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',') + '\r\n').join('');
}
