/**
 * Rulebook test cases: the case files' format, runner and coverage check live in src (the `rules:test` command
 * uses them too); tests import them from here.
 */

export {
  applyFragment,
  CASE_BASE_NOTIFICATION,
  caseCoverage,
  caseFileSchema,
  runRulebookCases,
  type CaseResult,
  type CoverageGap,
  type Json,
  type RulebookCase,
  type RulebookCaseFile,
} from '../../src/pipeline/consent/cases.js';
export { findRulebooks, loadRulebookCases, type RulebookWithCases } from '../../src/config/rulebook-cases.js';
