import { Router, type Response } from 'express';
import type { ComparedPerson, FamilyStore, MatchReview } from '../../../src/ports/family-store.js';
import type { AuditLog } from '../../../src/ports/audit-log.js';
import type { PageKit } from './web-app.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import { londonDateTime } from './audit-sentences.js';
import { recordForPage, reviewPageRoutes } from './review-page.js';

export interface ReviewPagesDeps {
  families: FamilyStore;
  audit: AuditLog;
  /** Told after a review is decided (its match-review job leaves the queue). */
  reviewDecided?: (reviewId: string) => Promise<void>;
}

/** Pending reviews a page. */
export const REVIEW_PAGE = 100;

const FIELD_NAMES: Record<string, string> = {
  familyName: 'Family name',
  givenName: 'Given names',
  birthDate: 'Date of birth',
  postcode: 'Postcode',
  phone: 'Telephone',
};

/** How an agreement level reads: `exact` → "Exact", `jw-0.92` → "Jw 0.92", `else` → "Different". */
function levelName(level: string): string {
  if (level === 'else') return 'Different';
  if (level === 'missing' || level === 'null') return 'Missing on one side';
  const t = level.replace(/[-_]/g, ' ');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

function valueOf(p: ComparedPerson | undefined, field: string): string {
  if (p === undefined) return '';
  if (field === 'givenName') return p.givenNames?.join(' ') ?? '';
  const v = (p as Record<string, unknown>)[field];
  return typeof v === 'string' ? v : '';
}

const weight = (w: number): string => (w > 0 ? `+${w.toFixed(2)}` : w.toFixed(2));

/** The side-by-side rows of a review: each compared field, both values, its agreement level and weight. */
function comparisonRows(r: MatchReview): { field: string; probe: string; candidate: string; level: string; weight: string }[] {
  return r.contributions.map((c) => ({
    field: FIELD_NAMES[c.field] ?? c.field,
    probe: valueOf(r.probe, c.field) || 'Not recorded',
    candidate: valueOf(r.candidate, c.field) || 'Not recorded',
    level: levelName(c.level),
    weight: weight(c.weight),
  }));
}

/**
 * The match review queue for operators (issue 12 item 3): possible family matches held in the review band, each
 * with its score and every compared field side by side, and a confirm or reject form. Opening a review shows
 * personal data, so it is audited as a read by the signed-in person; a decision is audited as theirs.
 */
export function reviewPages(kit: PageKit, deps: ReviewPagesDeps): WebPages {
  const router = Router();
  const operators = kit.requireRole('operator', 'admin');

  router.get('/operations/reviews', operators, async (req, res) => {
    const items = await deps.families.listReviews('pending', REVIEW_PAGE);
    const person = signedIn(res);
    if (person)
      await deps.audit.append([
        {
          at: kit.clock(),
          actor: `user:${person.sub}`,
          action: 'read',
          details: { name: person.name, role: person.role, purpose: 'operations', query: 'match-reviews', results: items.length },
        },
      ]);
    const decided = typeof req.query.decided === 'string' ? req.query.decided : undefined;
    kit.render(res, 'operator/reviews.njk', {
      title: 'Possible family matches',
      current: '/app/operations/reviews',
      decided: decided === 'confirmed' || decided === 'rejected' ? decided : undefined,
      items: items.map((r) => ({ id: r.id, held: londonDateTime(new Date(r.createdAt)), score: weight(r.score) })),
    });
  });

  const reviewPage = async (res: Response, id: string, extra: Record<string, unknown> = {}, status = 200): Promise<void> => {
    const shown = await recordForPage(res, kit, id, (i) => deps.families.getReview(i));
    if (shown === undefined) return;
    const { person, record: review } = shown;
    await deps.audit.append([
      {
        at: kit.clock(),
        actor: `user:${person.sub}`,
        action: 'read',
        notificationId: review.notificationId,
        outcome: 'match-review',
        details: {
          name: person.name,
          role: person.role,
          purpose: 'operations',
          reviewId: id,
          fields: review.contributions.map((c) => c.field),
        },
      },
    ]);
    kit.render(
      res,
      'operator/review.njk',
      {
        title: 'Possible family match',
        current: '/app/operations/reviews',
        id,
        pending: review.status === 'pending',
        status: review.status,
        score: weight(review.score),
        held: londonDateTime(new Date(review.createdAt)),
        rows: comparisonRows(review),
        ...extra,
      },
      status,
    );
  };

  reviewPageRoutes(router, kit, {
    path: '/operations/reviews/:id',
    guard: operators,
    show: reviewPage,
    decide: async ({ person, id, decision, reason }, res) => {
      if (decision !== 'confirm' && decision !== 'reject') {
        await reviewPage(res, id, { errors: [{ text: 'Choose whether this is the same family', href: '#decision' }] }, 400);
        return;
      }
      const result = await deps.families.decideReview(
        id,
        decision,
        { actor: `user:${person.sub}`, name: person.name },
        kit.clock(),
        reason,
      );
      if (result.kind === 'not-found') kit.notFound(res);
      else if (result.kind === 'already-decided')
        await reviewPage(
          res,
          id,
          { errors: [{ text: `This match was already ${result.status} by someone else`, href: '#decision' }] },
          409,
        );
      else {
        await deps.reviewDecided?.(id);
        res.redirect(303, `/app/operations/reviews?decided=${result.review.status}`);
      }
    },
  });

  return {
    nav: [{ href: '/app/operations/reviews', text: 'Possible family matches', roles: ['operator', 'admin'] }],
    router,
  };
}
