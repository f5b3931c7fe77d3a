import { join } from 'node:path';
import { loadCatchments } from '../../../src/config/catchments.js';
import { routeNotification, type Route } from '../../../src/pipeline/route.js';
import { defined } from '../../support/defined.js';

const catchments = loadCatchments(join(process.cwd(), 'mappings', 'catchments.json'));

describe('routeNotification', () => {
  it('prefers a full postcode over a sector over a district', () => {
    expect(routeNotification('LS9 7AB', catchments)).toEqual<Route>({
      kind: 'centre',
      centreId: 'osmondthorpe',
      localAuthorityId: 'northgate',
      matchedBy: 'postcode',
    });
    expect(routeNotification('LS9 7AE', catchments)).toEqual<Route>({
      kind: 'centre',
      centreId: 'richmond-hill',
      localAuthorityId: 'northgate',
      matchedBy: 'sector',
    });
    expect(routeNotification('LS9 6QQ', catchments)).toEqual<Route>({
      kind: 'centre',
      centreId: 'east-end-park',
      localAuthorityId: 'northgate',
      matchedBy: 'district',
    });
  });

  it('routes in the second local authority', () => {
    expect(routeNotification('LS10 3AA', catchments)).toMatchObject({
      centreId: 'belle-isle',
      localAuthorityId: 'southmoor',
      matchedBy: 'sector',
    });
  });

  it('sends a postcode no centre covers to its local authority unallocated inbox', () => {
    expect(routeNotification('LS17 5AB', catchments)).toEqual<Route>({
      kind: 'unallocated',
      inboxId: 'northgate-unallocated',
      localAuthorityId: 'northgate',
      reason: 'no-centre-covers-postcode',
    });
    expect(routeNotification('LS11 9ZZ', catchments)).toMatchObject({
      inboxId: 'southmoor-unallocated',
      reason: 'no-centre-covers-postcode',
    });
  });

  it('sends a postcode outside every local authority to the hub-wide inbox', () => {
    expect(routeNotification('BS7 8AA', catchments)).toEqual<Route>({
      kind: 'unallocated',
      inboxId: 'unallocated',
      reason: 'outside-all-local-authorities',
    });
  });

  it('sends a missing or unusable postcode to the hub-wide inbox', () => {
    for (const p of [undefined, '', '   ', 'LS9']) {
      expect(routeNotification(p, catchments)).toEqual<Route>({ kind: 'unallocated', inboxId: 'unallocated', reason: 'no-postcode' });
    }
  });

  it('tolerates lower case and a missing space', () => {
    expect(routeNotification('ls97ab', catchments)).toMatchObject({ centreId: 'osmondthorpe', matchedBy: 'postcode' });
    expect(routeNotification('ls8  1aa', catchments)).toMatchObject({ centreId: 'harehills', matchedBy: 'district' });
  });

  it('does not confuse districts that share a prefix (LS1 vs LS17, LS9 vs LS99)', () => {
    expect(routeNotification('LS1 7AB', catchments)).toMatchObject({ reason: 'outside-all-local-authorities' });
    expect(routeNotification('LS99 7AB', catchments)).toMatchObject({ reason: 'outside-all-local-authorities' });
  });

  it('every generated postcode gets exactly one route, consistent with the most-specific rule', () => {
    const districts = ['LS8', 'LS9', 'LS10', 'LS11', 'LS17', 'BS7', 'M1'];
    const letters = 'ABDEFGHJLNPQRSTUWXYZ';
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      const district = defined(districts[next(districts.length)], 'a district');
      const pc = `${district} ${next(10)}${letters.charAt(next(letters.length))}${letters.charAt(next(letters.length))}`;
      const r = routeNotification(pc, catchments);
      const sector = pc.slice(0, pc.length - 2);
      if (catchments.byPostcode.has(pc)) expect(r).toMatchObject({ matchedBy: 'postcode' });
      else if (catchments.bySector.has(sector))
        expect(r).toMatchObject({ matchedBy: 'sector', centreId: defined(catchments.bySector.get(sector), `sector ${sector}`).centreId });
      else if (catchments.byDistrict.has(district)) expect(r).toMatchObject({ matchedBy: 'district' });
      else expect(r.kind).toBe('unallocated');
      if (r.kind === 'centre') expect(catchments.centres.get(r.centreId)?.localAuthorityId).toBe(r.localAuthorityId);
    }
  });
});
