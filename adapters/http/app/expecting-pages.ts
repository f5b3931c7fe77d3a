import { Router, type Request, type Response } from 'express';
import type { PersonName } from '../../../src/domain/birth-notification.js';
import type { AntenatalStore, ExpectingItem } from '../../../src/ports/antenatal-store.js';
import { longDate, longDateTime } from './family-view.js';
import type { WebPages } from './navigation.js';
import { signedIn } from './sessions.js';
import type { PageKit } from './web-app.js';

/** The most expecting families shown: the newest. */
const SHOWN = 100;

const nameText = (n: PersonName | undefined): string =>
  n === undefined ? 'Name not given' : [...(n.given ?? []), n.family ?? ''].join(' ').trim() || 'Name not given';

/** One row of the list, only from what was disclosed; a withdrawn item shows no content. */
function row(item: ExpectingItem): { text?: string; html?: string }[] {
  if (item.status === 'withdrawn' || item.disclosed === undefined)
    return [
      { text: 'Withdrawn' },
      { text: '' },
      { text: '' },
      { text: longDateTime(item.deliveredAt) ?? '' },
      { html: '<strong class="govuk-tag govuk-tag--grey">Withdrawn</strong>' },
    ];
  const d = item.disclosed;
  const address = d.address === undefined ? '' : [...d.address.lines, d.address.city, d.address.postcode].filter((x) => x).join(', ');
  return [
    { text: nameText(d.mother.name) },
    { text: longDate(d.estimatedDueDate) ?? d.estimatedDueDate },
    {
      text: [address, d.mother.preferredLanguage !== undefined ? `Language: ${d.mother.preferredLanguage}` : '']
        .filter((x) => x)
        .join('. '),
    },
    { text: longDateTime(item.deliveredAt) ?? '' },
    { html: '<strong class="govuk-tag govuk-tag--purple">Expecting</strong>' },
  ];
}

/** A closed item: the mother, and when the birth joined the family (the birth itself is on New families). */
function bornRow(item: ExpectingItem): { text?: string; html?: string }[] {
  return [
    { text: nameText(item.disclosed?.mother.name) },
    { text: item.disclosed === undefined ? '' : (longDate(item.disclosed.estimatedDueDate) ?? item.disclosed.estimatedDueDate) },
    { text: longDateTime(item.bornAt) ?? '' },
    { html: '<strong class="govuk-tag govuk-tag--green">Born</strong>' },
  ];
}

/**
 * The centre's expecting families (issue 17 item 3): antenatal notifications shared with the mother's consent, apart
 * from the new births of the worklist; a withdrawn one (a pregnancy loss) heads the page without content. The centre
 * is the worker's token's scope, never a URL value. Each item shown is audited as read by the store.
 */
export function expectingPages(kit: PageKit, store: AntenatalStore): WebPages {
  const router = Router();
  const worker = kit.requireRole('centre-worker');
  router.get('/expecting', worker, async (_req: Request, res: Response) => {
    const person = signedIn(res);
    const inbox = person?.scope;
    if (person === undefined || inbox === undefined) return;
    const items = await store.listExpecting(inbox, SHOWN, { actor: `user:${person.sub}`, name: person.name }, kit.clock());
    const withdrawn = items.filter((i) => i.status === 'withdrawn');
    // Closed once the baby is born (the birth joined the booking's family): off the active list, tagged "Born".
    const born = items.filter((i) => i.status !== 'withdrawn' && i.bornAt !== undefined);
    kit.render(res, 'expecting.njk', {
      title: 'Expecting families',
      current: '/app/expecting',
      centreName: kit.inboxName(inbox) ?? inbox,
      withdrawn: withdrawn.map((i) => ({ delivered: longDateTime(i.deliveredAt), withdrawn: longDateTime(i.withdrawnAt) })),
      rows: items.filter((i) => i.status !== 'withdrawn' && i.bornAt === undefined).map(row),
      born: born.map(bornRow),
    });
  });
  return { nav: [{ href: '/app/expecting', text: 'Expecting', roles: ['centre-worker'] }], router };
}
