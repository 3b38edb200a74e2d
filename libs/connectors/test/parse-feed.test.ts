import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SourceError, parseFeed, parseFeedDocument } from '../src/index.js';
import { rss } from './helpers.js';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

function parseErrorOf(fn: () => unknown): SourceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof SourceError, `expected SourceError, got ${String(err)}`);
    assert.equal(err.code, 'parse');
    return err;
  }
  assert.fail('expected a parse error');
}

/** Parses, asserting the only possible failure is SourceError('parse'). */
function survives(body: Buffer, contentType: string | null = null): void {
  try {
    parseFeed(body, contentType);
  } catch (err) {
    assert.ok(err instanceof SourceError && err.code === 'parse', `unexpected ${String(err)}`);
  }
}

describe('parseFeed: RSS 2.0', () => {
  const body = buf(
    rss(
      `<item>
        <title>Ben &amp; Jerry&#8217;s &lt;b&gt;new&lt;/b&gt; flavour</title>
        <link>https://example.com/posts/1?utm_source=rss</link>
        <guid isPermaLink="false">post-1</guid>
        <description><![CDATA[<p>First <b>paragraph</b>.</p><p>Second&nbsp;one &amp; more.</p><script>alert(1)</script>]]></description>
        <author>jane@example.com (Jane Doe)</author>
        <pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>
        <slash:comments xmlns:slash="http://purl.org/rss/1.0/modules/slash/">42</slash:comments>
      </item>
      <item>
        <title>Second</title>
        <link>/relative/2</link>
        <dc:creator xmlns:dc="http://purl.org/dc/elements/1.1/">Bob</dc:creator>
        <dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">2003-06-10T09:30:00+02:00</dc:date>
        <content:encoded xmlns:content="http://purl.org/rss/1.0/modules/content/">&lt;p&gt;Full text&lt;/p&gt;</content:encoded>
      </item>
      <item><title>No link, no guid</title><description>Text only</description><pubDate>not a date</pubDate></item>`,
    ),
  );

  it('maps items to normalised fields', () => {
    const feed = parseFeed(body, 'application/rss+xml', 'https://example.com/feed.xml');
    assert.equal(feed.title, 'Test feed');
    assert.equal(feed.format, 'rss');
    assert.equal(feed.items.length, 3);
    const [a, b, c] = feed.items;
    assert.deepEqual(a, {
      externalId: 'post-1',
      url: 'https://example.com/posts/1?utm_source=rss',
      title: 'Ben & Jerry’s new flavour',
      summary: 'First paragraph. Second one & more.',
      author: 'jane@example.com (Jane Doe)',
      publishedAt: new Date('2003-06-10T04:00:00Z'),
      points: null,
      comments: 42,
    });
    assert.equal(b?.externalId, 'https://example.com/relative/2'); // no guid: the (resolved) link
    assert.equal(b?.url, 'https://example.com/relative/2');
    assert.equal(b?.author, 'Bob');
    assert.equal(b?.summary, 'Full text');
    assert.deepEqual(b?.publishedAt, new Date('2003-06-10T07:30:00Z'));
    assert.match(c?.externalId ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(c?.url, null);
    assert.equal(c?.summary, 'Text only');
    assert.equal(c?.publishedAt, null);
  });

  it('hashes title + date stably for items without guid or link', () => {
    const make = (title: string, date: string): string =>
      parseFeed(buf(rss(`<item><title>${title}</title><description>text</description><pubDate>${date}</pubDate></item>`)), null).items[0]?.externalId ?? '';
    assert.equal(make('A', 'Tue, 10 Jun 2003 04:00:00 GMT'), make('A', 'Tue, 10 Jun 2003 04:00:00 GMT'));
    assert.notEqual(make('A', 'Tue, 10 Jun 2003 04:00:00 GMT'), make('B', 'Tue, 10 Jun 2003 04:00:00 GMT'));
    assert.notEqual(make('A', 'Tue, 10 Jun 2003 04:00:00 GMT'), make('A', 'Wed, 11 Jun 2003 04:00:00 GMT'));
  });

  it('uses a permalink guid as the URL when there is no link, and drops duplicate ids', () => {
    const feed = parseFeed(buf(rss('<item><guid>https://example.com/g</guid><title>x</title></item><item><guid>https://example.com/g</guid><title>dup</title></item>')), null);
    assert.equal(feed.items.length, 1);
    assert.equal(feed.items[0]?.url, 'https://example.com/g');
    assert.equal(feed.items[0]?.externalId, 'https://example.com/g');
  });

  it('truncates long summaries to about 1000 characters', () => {
    const long = 'word '.repeat(2000);
    const item = parseFeed(buf(rss(`<item><title>t</title><description>${long}</description></item>`)), null).items[0];
    assert.ok(item?.summary);
    assert.ok(item.summary.length <= 1000, `length ${item.summary.length}`);
    assert.ok(item.summary.endsWith('…'));
  });

  it('never hands out javascript: links', () => {
    const item = parseFeed(buf(rss('<item><title>t</title><link>javascript:alert(1)</link><description>d</description></item>')), null).items[0];
    assert.equal(item?.url, null);
  });
});

describe('parseFeed: RSS 1.0 (RDF), Atom, JSON Feed', () => {
  it('reads RSS 1.0', () => {
    const feed = parseFeed(
      buf(`<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://example.org/rss"><title>RDF feed</title><link>http://example.org/</link><description>d</description></channel>
  <item rdf:about="http://example.org/1"><title>One</title><link>http://example.org/1</link><dc:date>2004-01-01T00:00:00Z</dc:date><dc:creator>Ann</dc:creator></item>
  <item rdf:about="http://example.org/2"><title>Two</title></item>
</rdf:RDF>`),
      'application/rdf+xml',
    );
    assert.equal(feed.format, 'rdf');
    assert.equal(feed.title, 'RDF feed');
    assert.deepEqual(
      feed.items.map((i) => [i.externalId, i.url, i.title, i.author]),
      [
        ['http://example.org/1', 'http://example.org/1', 'One', 'Ann'],
        ['http://example.org/2', 'http://example.org/2', 'Two', null],
      ],
    );
    assert.deepEqual(feed.items[0]?.publishedAt, new Date('2004-01-01T00:00:00Z'));
  });

  it('reads Atom with xhtml content, xml:base and inherited authors', () => {
    const feed = parseFeed(
      buf(`<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/">
  <title type="html">My &lt;em&gt;blog&lt;/em&gt;</title>
  <author><name>Feed Author</name></author>
  <link rel="self" href="/atom.xml"/><link href="/"/>
  <entry>
    <id>tag:blog.example,2024:1</id><title>Entry one</title>
    <link rel="alternate" type="text/html" href="posts/1"/><link rel="enclosure" href="/a.mp3"/>
    <updated>2024-03-01T12:00:00Z</updated><published>2024-02-29T08:00:00-05:00</published>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>world</b> &amp; co</p></div></content>
  </entry>
  <entry>
    <id>tag:blog.example,2024:2</id><title type="text">1 &lt; 2</title>
    <author><name>Other</name><email>o@example.com</email></author>
    <summary type="html">&lt;p&gt;Short&lt;/p&gt;</summary><updated>2024-03-02T12:00:00Z</updated>
  </entry>
</feed>`),
      'application/atom+xml',
      'https://blog.example/atom.xml',
    );
    assert.equal(feed.format, 'atom');
    assert.equal(feed.title, 'My blog');
    const [a, b] = feed.items;
    assert.equal(a?.externalId, 'tag:blog.example,2024:1');
    assert.equal(a?.url, 'https://blog.example/posts/1');
    assert.equal(a?.summary, 'Hello world & co');
    assert.equal(a?.author, 'Feed Author');
    assert.deepEqual(a?.publishedAt, new Date('2024-02-29T13:00:00Z'));
    assert.equal(b?.title, '1 < 2');
    assert.equal(b?.summary, 'Short');
    assert.equal(b?.author, 'Other (o@example.com)');
    assert.deepEqual(b?.publishedAt, new Date('2024-03-02T12:00:00Z'));
  });

  it('reads JSON Feed 1.1', () => {
    const feed = parseFeed(
      buf(
        JSON.stringify({
          version: 'https://jsonfeed.org/version/1.1',
          title: 'JSON',
          home_page_url: 'https://j.example/',
          authors: [{ name: 'Jay' }],
          items: [
            { id: 1, url: 'https://j.example/1', title: 'One', content_html: '<p>Hi <i>there</i></p>', date_published: '2024-01-02T03:04:05Z' },
            { id: '2', external_url: 'https://elsewhere.example/', content_text: 'Untitled text item', summary: 'Sum' },
            'not an object',
          ],
        }),
      ),
      'application/feed+json',
    );
    assert.equal(feed.format, 'json');
    assert.equal(feed.title, 'JSON');
    assert.equal(feed.items.length, 2);
    assert.deepEqual(feed.items[0], {
      externalId: '1',
      url: 'https://j.example/1',
      title: 'One',
      summary: 'Hi there',
      author: 'Jay',
      publishedAt: new Date('2024-01-02T03:04:05Z'),
      points: null,
      comments: null,
    });
    assert.equal(feed.items[1]?.title, 'Sum');
    assert.equal(feed.items[1]?.summary, 'Sum');
    assert.equal(feed.items[1]?.url, 'https://elsewhere.example/');
  });
});

describe('parseFeed: non-feeds fail with a clear parse error', () => {
  it('HTML page', () => {
    const err = parseErrorOf(() => parseFeed(buf('<!DOCTYPE html><html><head><title>Hi</title></head><body><p>hello</body></html>'), 'text/html'));
    assert.equal(err.message, 'document is an HTML page, not a feed');
  });
  it('empty and blank bodies', () => {
    assert.equal(parseErrorOf(() => parseFeed(Buffer.alloc(0), null)).message, 'empty response body');
    assert.equal(parseErrorOf(() => parseFeed(buf('  \n\t '), null)).message, 'empty document');
  });
  it('JSON that is not a JSON Feed, and invalid JSON', () => {
    assert.match(parseErrorOf(() => parseFeed(buf('{"hello": "world"}'), 'application/json')).message, /not a JSON Feed/);
    assert.match(parseErrorOf(() => parseFeed(buf('[1,2,3]'), 'application/json')).message, /not a JSON Feed/);
    assert.match(parseErrorOf(() => parseFeed(buf('{"version": "https://jsonfeed.org/version/1", "items": [}'), null)).message, /^invalid JSON/);
  });
  it('other XML and plain text', () => {
    assert.match(parseErrorOf(() => parseFeed(buf('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), null)).message, /unexpected root element <svg>/);
    assert.match(parseErrorOf(() => parseFeed(buf('just some words'), 'text/plain')).message, /neither XML nor JSON/);
    assert.match(parseErrorOf(() => parseFeed(buf('<!-- only a comment -->'), null)).message, /no XML element/);
  });
});

describe('parseFeed: malformed input', () => {
  const sample = rss(
    [1, 2, 3, 4]
      .map((n) => `<item><title>Item ${n} &amp; more</title><link>http://example.com/${n}</link><description>&lt;p&gt;Body ${n}&lt;/p&gt;</description><pubDate>Tue, 10 Jun 2003 04:00:0${n} GMT</pubDate></item>`)
      .join('\n'),
  );

  it('recovers the complete items of a truncated document', () => {
    const cut = sample.indexOf('<item><title>Item 3');
    const feed = parseFeed(buf(sample.slice(0, cut + 30)), null);
    assert.deepEqual(
      feed.items.slice(0, 2).map((i) => i.title),
      ['Item 1 & more', 'Item 2 & more'],
    );
    assert.ok(feed.problems.length > 0);
  });

  it('tolerates bare ampersands, unclosed and mis-nested tags, undeclared prefixes and unknown entities', () => {
    const feed = parseFeed(
      buf(`<rss><channel><title>AT&T news &nbsp;&bogus;</title>
        <item><title>Q&A <b>bold</i></title><link>http://x.example/?a=1&b=2</link><itunes:author>Pod</itunes:author></item>
        <item><title>unclosed<description>d</description></item>
        <item><title>last</title>`),
      null,
    );
    assert.equal(feed.title, 'AT&T news', 'the undefined &bogus; is removed, not shown');
    assert.equal(feed.items[0]?.title, 'Q&A bold');
    assert.equal(feed.items[0]?.url, 'http://x.example/?a=1&b=2');
    // The other two items have neither a link nor any text: fragments, dropped.
    assert.deepEqual(
      feed.items.map((i) => i.title),
      ['Q&A bold'],
    );
    assert.match(feed.recovered ?? '', /^recovered from malformed XML: bare '&' in text \(\d+ problems\)$/);
  });

  it('survives every truncation point and random byte corruption', () => {
    const bytes = buf(sample);
    for (let cut = 0; cut <= bytes.length; cut += 3) survives(bytes.subarray(0, cut));
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < 300; round++) {
      const copy = Buffer.from(bytes);
      for (let k = 0; k < 8; k++) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      survives(copy);
    }
    for (const junk of ['<', '<<<<', '<![CDATA[', '<!DOCTYPE', '<?xml', '<rss', '<rss><channel><item', '<feed><entry><content type="xhtml"><div', '{', '{"version":', '\u0000\u0001\u0002', '\ufeff']) {
      survives(buf(junk));
    }
  });

  it('does not expand nested entities (billion laughs) and stays fast', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol; &lol9;</title><link>http://x.example/1</link></item></channel></rss>`;
    const started = Date.now();
    const feed = parseFeed(buf(lol), null);
    assert.ok(Date.now() - started < 1000);
    assert.equal(feed.title, null, 'the refused entity is removed, leaving no title');
    assert.equal(feed.items[0]?.title, 'lol');
    assert.equal(feed.recovered, 'recovered from malformed XML: entity &lol9; not expanded: its declared value holds references or markup (2 problems)');
  });

  it('caps the total expansion of a large plain entity referenced many times', () => {
    const big = 'A'.repeat(2000);
    const refs = '&big;'.repeat(100_000);
    const doc = `<!DOCTYPE rss [<!ENTITY big "${big}">]><rss><channel><title>t</title><item><title>x</title><description>${refs}</description></item></channel></rss>`;
    const started = Date.now();
    const parsed = parseFeedDocument(buf(doc), null);
    assert.ok(Date.now() - started < 3000);
    const summary = parsed.entries[0]?.summary ?? '';
    assert.ok(summary.length <= 1_000_000 + refs.length, `expanded to ${summary.length} chars`);
  });

  it('never loads external entities', () => {
    const doc = `<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY ok "fine">]><rss><channel><title>&xxe; &ok;</title></channel></rss>`;
    const feed = parseFeed(buf(doc), null);
    assert.equal(feed.title, 'fine');
    assert.equal(feed.recovered, 'recovered from malformed XML: entity &xxe; not expanded: it is an external entity, never loaded (1 problem)');
  });

  it('handles absurd nesting and many bare "<" without blowing the stack or hanging', () => {
    const deep = `<rss><channel><item><title>deep</title><description>${'<div>'.repeat(100_000)}x</description></item></channel></rss>`;
    const started = Date.now();
    survives(buf(deep));
    survives(buf(`<rss><channel><title>${'<a '.repeat(200_000)}</title></channel></rss>`));
    survives(buf(`<rss><channel><title>${'<a x="'.repeat(100_000)}</title></channel></rss>`));
    survives(buf(`<rss><channel><item><description>${'&lt;a '.repeat(100_000)}</description></item></channel></rss>`));
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
});

describe('parseFeed: character encodings', () => {
  const latin1Doc = (decl: string): Buffer =>
    Buffer.concat([Buffer.from(`<?xml version="1.0" encoding="${decl}"?><rss><channel><title>`), Buffer.from([0x43, 0x61, 0x66, 0xe9]), Buffer.from('</title></channel></rss>')]);

  it('uses the XML declaration when there is no HTTP charset', () => {
    const doc = parseFeedDocument(latin1Doc('iso-8859-1'), 'application/xml');
    assert.equal(doc.title, 'Café');
  });

  it('lets the HTTP charset override the XML declaration', () => {
    const body = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="utf-8"?><rss><channel><title>'), Buffer.from([0xb3, 0xe2]), Buffer.from('</title></channel></rss>')]);
    assert.equal(parseFeed(body, 'text/xml; charset=euc-kr').title, '년');
    assert.equal(parseFeed(body, "application/rss+xml;charset='EUC-KR'").title, '년');
  });

  it('honours a BOM and detects UTF-16 without one', () => {
    const xml = '<?xml version="1.0" encoding="utf-16"?><rss><channel><title>Grüße</title></channel></rss>';
    const le = Buffer.from(xml, 'utf16le');
    assert.equal(parseFeed(Buffer.concat([Buffer.from([0xff, 0xfe]), le]), null).title, 'Grüße');
    assert.equal(parseFeed(le, null).title, 'Grüße');
    assert.equal(parseFeed(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<rss><channel><title>Grüße</title></channel></rss>')]), null).title, 'Grüße');
  });

  it('falls back to windows-1252 when bytes are not valid in the declared encoding', () => {
    const doc = parseFeedDocument(latin1Doc('utf-8'), null);
    assert.equal(doc.title, 'Café');
    assert.equal(doc.encoding, 'windows-1252');
  });

  it('ignores unknown charset labels', () => {
    const body = buf('<?xml version="1.0" encoding="x-no-such-charset"?><rss><channel><title>Grüße</title></channel></rss>');
    assert.equal(parseFeed(body, 'text/xml; charset=bogus-charset').title, 'Grüße');
  });

  it('maps windows-1252 "smart quotes" written as C1 characters or numeric references', () => {
    assert.equal(parseFeed(buf(rss('<item><title>don&#146;t \u0093quote\u0094</title><link>http://x.example/q</link></item>')), null).items[0]?.title, 'don’t “quote”');
  });
});

describe('parseFeed: recovered parses (feedparser "bozo")', () => {
  it('a truncated feed yields no link-less fragment and says it was recovered', () => {
    const feed = parseFeed(buf('<rss><channel><item><title>unclosed'), null);
    assert.deepEqual(feed.items, []);
    assert.equal(feed.entryCount, 1);
    assert.equal(feed.recovered, 'recovered from malformed XML: unclosed <title> at end of document (4 problems)');
  });

  it('a well-formed feed is not recovered; JSON Feed never is', () => {
    assert.equal(parseFeed(buf(rss('<item><title>t</title><link>http://x.example/</link></item>')), null).recovered, null);
    assert.equal(parseFeed(buf('{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[]}'), null).recovered, null);
  });

  it('drops items with neither link nor text, keeps those with either', () => {
    const feed = parseFeed(
      buf(rss('<item><title>only a title</title><guid isPermaLink="false">g1</guid></item><item><title>linked</title><link>http://x.example/1</link></item><item><description>text only</description></item>')),
      null,
    );
    assert.deepEqual(
      feed.items.map((i) => i.title),
      ['linked', 'text only'],
    );
    assert.equal(feed.entryCount, 3);
  });

  it('an undefined entity never reaches a title, in XML text or in escaped HTML', () => {
    const feed = parseFeed(buf(rss('<item><title>A &foo; B</title><link>http://x.example/1</link></item><item><title><![CDATA[C &bar; D]]></title><link>http://x.example/2</link></item>')), null);
    assert.deepEqual(
      feed.items.map((i) => i.title),
      ['A B', 'C D'],
    );
    assert.equal(feed.recovered, 'recovered from malformed XML: undefined entity &foo; (1 problem)', 'CDATA content is HTML, not XML: not a repair');
  });
});

describe('parseFeed: RSS <ttl>', () => {
  const ttl = (value: string): number | null => parseFeed(buf(rss('', `<title>t</title><ttl>${value}</ttl>`)), null).ttlMinutes;
  it('reads a positive whole number of minutes', () => {
    assert.equal(ttl('60'), 60);
    assert.equal(ttl(' 15 '), 15);
  });
  it('ignores anything else', () => {
    for (const bad of ['0', '-5', '1.5', 'soon', '', '9999999999']) assert.equal(ttl(bad), null, bad);
    assert.equal(parseFeed(buf(rss('')), null).ttlMinutes, null);
    assert.equal(parseFeed(buf('<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><ttl>5</ttl></feed>'), null).ttlMinutes, null);
  });
});
