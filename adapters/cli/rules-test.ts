#!/usr/bin/env node
/**
 * `npm run rules:test`: runs every agreement's case file (`consent-rules/<agreement>.cases.json`) against the
 * agreement, and checks that the cases reach every rule and both sides of every condition where its rule is tried.
 *
 *   npm run rules:test                                  # every agreement in consent-rules/ (of STORK_CONFIG_DIR, else the repository)
 *   npm run rules:test -- --rulebook proposed.json      # one (proposed) agreement, with proposed.cases.json beside it
 *   npm run rules:test -- --rulebook proposed.json --cases my.cases.json
 *
 * Exit 0 when every case passes and nothing is unreached; 1 when a case fails or something is unreached; 2 when a
 * file cannot be loaded (the message names the file and the field).
 */
import path from 'node:path';
import { loadRulebook } from '../../src/config/rulebook.js';
import { casesFileOf, findRulebooks, loadRulebookCases } from '../../src/config/rulebook-cases.js';
import { caseCoverage, runRulebookCases } from '../../src/pipeline/consent/cases.js';
import { agreementLabel } from '../../src/pipeline/consent/rulebook.js';
import { configDir, EXIT_UNUSABLE, isEntryPoint, readArguments, unusableConfig, type CliOutput } from './cli-common.js';

export type { CliOutput } from './cli-common.js';

export const EXIT = { ok: 0, failed: 1, unusable: EXIT_UNUSABLE } as const;

const USAGE = 'usage: npm run rules:test -- [--dir consent-rules] [--rulebook agreement.json [--cases agreement.cases.json]]\n';

/** Tests one agreement with its cases; returns whether all passed and all was reached. */
function testOne(rulebookFile: string, casesFile: string | undefined, out: CliOutput): boolean {
  const rulebook = loadRulebook(rulebookFile);
  out.write(`${agreementLabel(rulebook)} (${rulebookFile})\n`);
  if (casesFile === undefined) {
    out.write(`  FAIL no case file (expected ${casesFileOf(rulebookFile)})\n`);
    return false;
  }
  const results = runRulebookCases(rulebook, loadRulebookCases(casesFile));
  let ok = true;
  for (const r of results) {
    if (r.passed) out.write(`  pass ${r.name}\n`);
    else {
      ok = false;
      const e = r.expected;
      const a = r.actual;
      out.write(
        `  FAIL ${r.name}: expected ${e.effect} by rule "${e.ruleId}"${e.dataset ? ` with ${e.dataset}` : ''}, got ${a.effect} by rule "${a.ruleId}"${
          a.dataset ? ` with ${a.dataset}` : ''
        }\n`,
      );
    }
  }
  const gaps = caseCoverage(rulebook, results);
  for (const g of gaps) out.write(`  UNREACHED ${g.message}\n`);
  out.write(
    `  ${results.filter((r) => r.passed).length}/${results.length} cases pass; ${
      gaps.length === 0 ? 'every rule and both sides of every condition reached' : `${gaps.length} unreached`
    }\n`,
  );
  return ok && gaps.length === 0;
}

export function main(args: readonly string[], out: CliOutput, err: CliOutput): number {
  const read = readArguments(args, { dir: { type: 'string' }, rulebook: { type: 'string' }, cases: { type: 'string' } }, USAGE, out, err);
  if ('exit' in read) return read.exit;
  const { values } = read;
  if (values.cases !== undefined && values.rulebook === undefined) {
    err.write(`--cases needs --rulebook\n${USAGE}`);
    return EXIT.unusable;
  }
  const dir = values.dir ?? path.join(configDir(process.env), 'consent-rules');
  try {
    const targets =
      values.rulebook !== undefined
        ? [{ rulebookFile: values.rulebook, casesFile: values.cases ?? casesFileOf(values.rulebook) }]
        : findRulebooks(dir);
    if (targets.length === 0) {
      err.write(`${dir}: holds no agreement\n`);
      return EXIT.unusable;
    }
    let ok = true;
    for (const t of targets) ok = testOne(t.rulebookFile, t.casesFile, out) && ok;
    out.write(ok ? 'rules:test passed\n' : 'rules:test FAILED\n');
    return ok ? EXIT.ok : EXIT.failed;
  } catch (e) {
    return unusableConfig(e, err);
  }
}

if (await isEntryPoint(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2), process.stdout, process.stderr);
}
