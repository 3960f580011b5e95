// Conformance against llhttp's fixtures: every case not skipped (see conformance-skips.ts)
// must agree with llhttp on accept vs reject and, for the messages parsed, on method,
// target, version, status, headers, trailers, body and message count. Each case is fed
// whole, byte by byte and split (feed()).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFixtures, fixturesPresent, fixturesDir, type FixtureCase } from './llhttp-fixtures.ts';
import { SKIPS, skipReason } from './conformance-skips.ts';
import { feed } from './feed.ts';

const present = fixturesPresent();
const cases: FixtureCase[] = present ? readFixtures() : [];
let ran = 0;
let passed = 0;
let skipped = 0;

test('llhttp fixtures are present', () => {
  assert.ok(present, `fixtures not found at ${fixturesDir}`);
  assert.ok(cases.length > 200, `only ${cases.length} fixture cases read`);
});

test('every listed skip names a real case', () => {
  const ids = new Set(cases.map((c) => c.id));
  for (const id of Object.keys(SKIPS)) assert.ok(ids.has(id), `stale skip: ${id}`);
});

function check(c: FixtureCase): void {
  const kind = c.type.startsWith('response') ? 'response' : 'request';
  const eof = c.type.endsWith('-finish');
  // llhttp's skipBody (on_headers_complete returning 1) is what a response to HEAD gets.
  const out = feed(kind, c.bytes, { eof, method: c.meta.skipBody ? 'HEAD' : undefined });
  const mine = out.messages.map((m) => {
    const h = m.head as Record<string, unknown> & { versionMajor: number; versionMinor: number; rawHeaders: string[] };
    return {
      method: kind === 'request' ? (h.method as string) : null,
      url: kind === 'request' ? (h.target as string) : null,
      version: `${h.versionMajor}.${h.versionMinor}`,
      status: kind === 'response' ? (h.statusCode as number) : null,
      headers: h.rawHeaders,
      trailers: m.trailers ?? [],
      body: m.body,
    };
  });
  const expectedError = c.rejected || c.finishError === true;
  if (expectedError) assert.ok(out.error, 'llhttp rejects this input; we accepted it');
  else assert.equal(out.error, null, `llhttp accepts this input; we rejected it: ${JSON.stringify(out.error)}`);
  // llhttp's value spans keep trailing whitespace; our field values exclude surrounding
  // OWS (RFC 9110 5.5), so compare llhttp's values trimmed the same way.
  const trim = (list: string[]) => list.map((v, i) => (i % 2 === 1 ? v.replace(/^[ \t]+|[ \t]+$/g, '') : v));
  const expected = c.messages.map((m) => ({ ...m, headers: trim(m.headers), trailers: trim(m.trailers) }));
  assert.deepEqual(mine, expected, 'messages differ from llhttp');
  if (c.upgraded) assert.ok(out.upgraded, 'llhttp stops for an upgrade here');
}

for (const c of cases) {
  const reason = skipReason(c.id, c.file, c.type);
  if (reason !== null) {
    skipped++;
    test(`llhttp ${c.id}`, { skip: reason }, () => {});
    continue;
  }
  test(`llhttp ${c.id}`, () => {
    ran++;
    check(c);
    passed++;
  });
}

after(() => {
  console.log(`llhttp conformance: ${cases.length} cases, ${ran} ran, ${passed} passed, ${skipped} skipped`);
});
