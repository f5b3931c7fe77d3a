import path from 'node:path';
import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';
import { repoRoot } from '../../../src/config/env.js';

/** Where GOV.UK Frontend's files are: its Nunjucks macros (`govuk/...`), its CSS, JavaScript, fonts and images. */
export const govukFrontendDist = path.join(path.dirname(createRequire(import.meta.url).resolve('govuk-frontend/package.json')), 'dist');

/** The web app's own templates and static files (kept beside the code, not copied by the build). */
export const webAppDir = path.join(repoRoot, 'adapters', 'http', 'app');

/**
 * Renders the web app's pages: Nunjucks, the templating language GOV.UK Frontend's own components are written
 * in, so the pages call its macros (header, error summary, tables, buttons) exactly as the design system
 * documents them. Autoescaping is on: every value is HTML-escaped unless a template marks it safe.
 */
export function createRenderer(): (view: string, context: Record<string, unknown>) => string {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader([path.join(webAppDir, 'views'), govukFrontendDist]), {
    autoescape: true,
    throwOnUndefined: false,
  });
  return (view, context) => env.render(view, context);
}
