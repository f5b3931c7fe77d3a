import express from 'express';
import { doorsOf, outcomeOf, parseMatrix, readMatrix, rowCovers } from './support/matrix.js';

const table = (rows: string): string =>
  ['<!-- role-matrix:start -->', '| Request | anonymous | ig |', '| --- | --- | --- |', rows, '<!-- role-matrix:end -->'].join('\n');

/** The matrix's reader and route walk can fail: what the role-matrix test relies on to catch a missing row. */
describe('The role matrix reader and route walk', () => {
  test('the README table reads: every row a request, every cell an outcome', () => {
    const m = readMatrix();
    expect(m.columns[0]).toBe('anonymous');
    expect(m.rows.length).toBeGreaterThan(60);
  });

  test('a malformed table is refused, naming the line', () => {
    expect(() => parseMatrix('no table')).toThrow(/no <!-- role-matrix:start -->/);
    expect(() => parseMatrix(table('| `GET /v1/audit` | 401 | allowed |'))).toThrow(/"allowed" is not one of/);
    expect(() => parseMatrix(table('| `GET /v1/audit` | 401 |'))).toThrow(/2 cells expected/);
    expect(() => parseMatrix(table('| GET /v1/audit | 401 | ok |'))).toThrow(/METHOD \/path/);
    expect(() => parseMatrix(table('| `GET /v1/audit` | 401 | ok |\n| `GET /v1/audit` | 401 | ok |'))).toThrow(/two rows/);
    expect(parseMatrix(table('| `GET /v1/audit?subject={nhs}` | 401 | ok |')).rows).toEqual([
      { method: 'GET', target: '/v1/audit?subject={nhs}', cells: { anonymous: '401', ig: 'ok' } },
    ]);
  });

  test('the walk finds routes of mounted routers and whole mounted apps; a door with no row is seen', () => {
    const app = express();
    const router = express.Router();
    router.get('/things/:thingId', (_req, res) => void res.end());
    router.delete('/things/:thingId', (_req, res) => void res.end());
    app.use('/v1/extra', router);
    app.use('/v1', (_req, _res, next) => next()); // plain middleware: no door
    const sub = express();
    sub.get('/anything', (_req, res) => void res.end());
    router.use('/dashboard', sub);
    app.use('/files', express.static('/nonexistent'));
    const doors = doorsOf(app);
    expect(doors).toEqual(['* /files/*', '* /v1/extra/dashboard/*', 'DELETE /v1/extra/things/{thingId}', 'GET /v1/extra/things/{thingId}']);
    const { rows } = parseMatrix(table('| `GET /v1/extra/things/{x}` | 401 | ok |\n| `GET /v1/extra/dashboard` | 401 | ok |'));
    expect(doors.filter((d) => !rows.some((r) => rowCovers(r, d)))).toEqual(['* /files/*', 'DELETE /v1/extra/things/{thingId}']);
  });

  test('answers are read as outcomes; a 5xx or a redirect to sign-in for another page is unexpected', () => {
    expect(outcomeOf(200, null, '/v1/x')).toBe('ok');
    expect(outcomeOf(409, null, '/v1/x')).toBe('ok');
    expect(outcomeOf(303, '/app/operations', '/app/x')).toBe('ok');
    expect(outcomeOf(303, '/app/sign-in?returnTo=%2Fapp%2Fx', '/app/x')).toBe('sign-in');
    expect(outcomeOf(303, '/app/sign-in?returnTo=%2Fapp%2Fy', '/app/x')).toBe('unexpected 303');
    expect(outcomeOf(503, null, '/v1/x')).toBe('unexpected 503');
    expect(outcomeOf(404, null, '/v1/x')).toBe('404');
  });
});
