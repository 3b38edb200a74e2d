import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalUrl, urlHash } from '../src/index.js';

describe('canonicalUrl', () => {
  const cases: [string, string][] = [
    ['HTTP://Example.COM/Path', 'http://example.com/Path'],
    ['https://example.com:443/a', 'https://example.com/a'],
    ['http://example.com:80/a', 'http://example.com/a'],
    ['http://example.com:8080/a', 'http://example.com:8080/a'],
    ['https://example.com', 'https://example.com/'],
    ['https://example.com/', 'https://example.com/'],
    ['https://example.com/a/', 'https://example.com/a/'], // only the root path is normalised
    ['https://example.com/a', 'https://example.com/a'],
    ['https://example.com/a#section-2', 'https://example.com/a'],
    ['https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x', 'https://example.com/a'],
    ['https://example.com/a?id=5&utm_source=rss&page=2', 'https://example.com/a?id=5&page=2'],
    ['https://example.com/a?z=1&a=2&m=3', 'https://example.com/a?z=1&a=2&m=3'], // order kept
    ['https://example.com/a?fbclid=abc&gclid=def&mc_cid=1&mc_eid=2', 'https://example.com/a'],
    ['https://example.com/a?ref=hn&ref_src=twsrc&igshid=x&q=1', 'https://example.com/a?q=1'],
    ['https://example.com/a?UTM_Source=x&Keep=Yes', 'https://example.com/a?Keep=Yes'],
    ['https://example.com/a?q=a%20b&x=c+d', 'https://example.com/a?q=a%20b&x=c+d'], // encoding kept
    ['https://example.com/a?', 'https://example.com/a'],
    ['https://example.com/?utm_source=x#top', 'https://example.com/'],
    ['https://Bücher.example/', 'https://xn--bcher-kva.example/'],
    ['  https://example.com/a  ', 'https://example.com/a'],
    ['https://user@example.com/a', 'https://user@example.com/a'],
  ];
  for (const [input, expected] of cases) {
    it(`${input} -> ${expected}`, () => assert.equal(canonicalUrl(input), expected));
  }

  it('returns input unchanged when it is not an http(s) URL', () => {
    for (const input of ['not a url', '', '/relative/path', 'mailto:me@example.com', 'urn:isbn:123', 'tag:example.com,2006:/x']) {
      assert.equal(canonicalUrl(input), input);
    }
  });

  it('is idempotent', () => {
    for (const [input] of cases) assert.equal(canonicalUrl(canonicalUrl(input)), canonicalUrl(input));
  });
});

describe('urlHash', () => {
  it('is the sha256 hex of the canonical URL, equal for equivalent URLs', () => {
    const expected = createHash('sha256').update('https://example.com/a?id=1').digest('hex');
    assert.equal(urlHash('https://EXAMPLE.com:443/a?id=1&utm_source=x#frag'), expected);
    assert.equal(urlHash('https://example.com/a?id=1'), expected);
    assert.match(urlHash('anything'), /^[0-9a-f]{64}$/);
    assert.notEqual(urlHash('https://example.com/a'), urlHash('https://example.com/b'));
  });
});
