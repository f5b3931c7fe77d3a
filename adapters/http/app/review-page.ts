/**
 * What the review pages share (the match review, a trigger firing's review): the record id in the path, the record
 * shown to the signed-in person, the decision form posted back, and the two routes that serve them.
 */
import type { Request, RequestHandler, Response, Router } from 'express';
import type { SignedInPerson } from '../../../src/ports/web-sessions.js';
import type { PageKit } from './web-app.js';
import { signedIn } from './sessions.js';
import { isUuid } from './ids.js';

/**
 * The signed-in person and the record `id` names, read with `get`. Not signed in, an id that is not a UUID, or no such
 * record: answers Not Found and returns undefined.
 */
export async function recordForPage<T>(
  res: Response,
  kit: Pick<PageKit, 'notFound'>,
  id: string,
  get: (id: string) => Promise<T | undefined>,
): Promise<{ person: SignedInPerson; record: T } | undefined> {
  const person = signedIn(res);
  const record = person && isUuid(id) ? await get(id) : undefined;
  if (!person || record === undefined) {
    kit.notFound(res);
    return undefined;
  }
  return { person, record };
}

/** What a review page's decision form posted: who, about which record, the decision as sent, and the optional reason. */
export interface DecisionForm {
  person: SignedInPerson;
  id: string;
  /** As posted: the caller checks it is one of its decisions. */
  decision: unknown;
  /** Trimmed, at most 500 characters; undefined when blank or absent. */
  reason: string | undefined;
}

/**
 * Reads the decision form posted to a review page (`/…/:id`, fields `decision` and `reason`), as the match review and
 * the trigger review pages take it. Not signed in, or an id that is not a UUID: answers Not Found and returns undefined.
 */
export function readDecisionForm(req: Request, res: Response, kit: Pick<PageKit, 'notFound'>): DecisionForm | undefined {
  const person = signedIn(res);
  const id = String(req.params.id);
  if (!person || !isUuid(id)) {
    kit.notFound(res);
    return undefined;
  }
  const body = req.body as Record<string, unknown> | undefined;
  const reason = typeof body?.reason === 'string' && body.reason.trim() !== '' ? body.reason.trim().slice(0, 500) : undefined;
  return { person, id, decision: body?.decision, reason };
}

/** A review page: where it is (a path ending `/:id`), who may use it, how it is shown, and what its decision does. */
export interface ReviewPage {
  path: string;
  guard: RequestHandler;
  /** Shows the page for the record `id` (Not Found when there is none). */
  show: (res: Response, id: string) => Promise<void>;
  /** Acts on a posted decision form (signed in, the id a UUID). */
  decide: (form: DecisionForm, res: Response) => Promise<void>;
}

/** The routes of a review page: GET shows it; POST reads its decision form (readDecisionForm) and hands it to `decide`. */
export function reviewPageRoutes(router: Router, kit: Pick<PageKit, 'notFound'>, page: ReviewPage): void {
  router.get(page.path, page.guard, async (req, res) => {
    await page.show(res, String(req.params.id));
  });
  router.post(page.path, page.guard, async (req, res) => {
    const form = readDecisionForm(req, res, kit);
    if (form !== undefined) await page.decide(form, res);
  });
}
