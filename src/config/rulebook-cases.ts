import { existsSync } from 'node:fs';
import { loadJsonFile } from './load-json-file.js';
import { agreementFiles } from './rulebook.js';
import { validateCaseFile, type RulebookCaseFile } from '../pipeline/consent/cases.js';

/** Reads and validates a case file; a ConfigError names the file and field. */
export function loadRulebookCases(file: string): RulebookCaseFile {
  return loadJsonFile<RulebookCaseFile>(file, validateCaseFile);
}

/** A rulebook file and its case file, found side by side in a directory. */
export interface RulebookWithCases {
  rulebookFile: string;
  casesFile: string | undefined;
}

/** The case file of an agreement file: `x.json` ↔ `x.cases.json`. */
export function casesFileOf(rulebookFile: string): string {
  return rulebookFile.replace(/\.json$/, '.cases.json');
}

/** Lists every agreement in a directory with its case file, if any. */
export function findRulebooks(dir: string): RulebookWithCases[] {
  return agreementFiles(dir).map((rulebookFile) => {
    const cases = casesFileOf(rulebookFile);
    return { rulebookFile, casesFile: existsSync(cases) ? cases : undefined };
  });
}
