import { cursorOf, decodeCursor, encodeCursor } from '../../../../adapters/store/sql-helpers.js';
import { InvalidCursorError } from '../../../../src/ports/paging.js';

const AT = '2026-11-29T06:10:54.123Z';
const ID = '0b5d3f6e-1c2a-4e8b-9f00-123456789abc';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

describe('paging cursors', () => {
  it('decodes exactly what encodeCursor makes', () => {
    expect(decodeCursor(encodeCursor(AT, ID))).toEqual({ at: AT, id: ID });
    expect(decodeCursor(encodeCursor('0001-01-01T00:00:00.000Z', ID))).toEqual({ at: '0001-01-01T00:00:00.000Z', id: ID });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/=='],
    ['junk bytes', b64('\u0000\u00ff junk')],
    ['a huge number', '99999999999999999999999'],
    ['no id', b64(AT)],
    ['three parts', b64(`${AT}|${ID}|x`)],
    ['an id that is not a uuid', b64(`${AT}|not-a-uuid`)],
    ['SQL after the uuid', b64(`${AT}|${ID}'); DROP TABLE messages; --`)],
    ['an uppercase uuid', b64(`${AT}|${ID.toUpperCase()}`)],
    ['a date that does not exist', b64(`2026-02-30T00:00:00.000Z|${ID}`)],
    ['year zero (PostgreSQL has none)', b64(`0000-01-01T00:00:00.000Z|${ID}`)],
    ['a timestamp without milliseconds', b64(`2026-11-29T06:10:54Z|${ID}`)],
    ['a timestamp with an offset', b64(`2026-11-29T06:10:54.123+01:00|${ID}`)],
    ['an extended year', b64(`+275760-09-13T00:00:00.000Z|${ID}`)],
    ['too long', 'A'.repeat(201)],
  ])('refuses %s', (_name, cursor) => {
    expect(decodeCursor(cursor)).toBeUndefined();
    expect(() => cursorOf(cursor)).toThrow(InvalidCursorError);
  });

  it('no cursor is no cursor', () => {
    expect(cursorOf(undefined)).toBeUndefined();
  });
});
