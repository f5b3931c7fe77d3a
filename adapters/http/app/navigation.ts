import type { Router } from 'express';
import type { WebRole } from '../../../src/ports/web-sessions.js';

/** A link in the header's navigation, shown to the roles that may open it. */
export interface NavItem {
  href: string;
  text: string;
  roles: readonly WebRole[];
}

/** A group of pages (a centre's worklist, the IG lead's audit, the operators' console): its routes and its links. */
export interface WebPages {
  nav: readonly NavItem[];
  router: Router;
}

/** How each role is named on the pages. */
export const ROLE_NAMES: Record<WebRole, string> = {
  'centre-worker': "children's centre worker",
  'ig-lead': 'information governance lead',
  operator: 'operator',
  admin: 'administrator',
  'early-help-worker': 'early-help worker',
};
