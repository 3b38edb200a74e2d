import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseXml } from '../src/xml/parser.js';
import type { XmlToken } from '../src/xml/tokenizer.js';
import { tokenize } from '../src/xml/tokenizer.js';
import { textContent } from '../src/xml/tree.js';

const tokens = (text: string): XmlToken[] => [...tokenize(text)];

describe('xml tokenizer', () => {
  it('lexes tags, text, CDATA, comments, PIs and the doctype without interpreting them', () => {
    assert.deepEqual(tokens('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "x>y">]><rss v=\'2\' b=c><!-- note --><t>A &amp; &a;</t><![CDATA[<b>&amp;</b>]]><e/></rss>'), [
      { kind: 'pi', value: 'xml version="1.0"' },
      { kind: 'doctype', internalSubset: '<!ENTITY a "x>y">' },
      { kind: 'startTag', name: 'rss', attrs: [['v', '2'], ['b', 'c']], selfClosing: false },
      { kind: 'comment', value: ' note ' },
      { kind: 'startTag', name: 't', attrs: null, selfClosing: false },
      { kind: 'text', raw: 'A &amp; &a;' },
      { kind: 'endTag', name: 't' },
      { kind: 'cdata', value: '<b>&amp;</b>' },
      { kind: 'startTag', name: 'e', attrs: null, selfClosing: true },
      { kind: 'endTag', name: 'rss' },
    ]);
  });

  it('reports lexical damage as problem tokens before its best reading', () => {
    assert.deepEqual(tokens('<a x="1><b'), [
      { kind: 'problem', message: 'unterminated attribute value' },
      { kind: 'startTag', name: 'a', attrs: [['x', '1']], selfClosing: false },
      { kind: 'problem', message: 'document ended inside start tag <b>' },
    ]);
    assert.deepEqual(tokens('1 < 2</a<b>'), [
      { kind: 'text', raw: '1 ' },
      { kind: 'problem', message: "bare '<' in text" },
      { kind: 'text', raw: '<' },
      { kind: 'text', raw: ' 2' },
      { kind: 'problem', message: 'unterminated end tag' },
      { kind: 'endTag', name: 'a' },
      { kind: 'startTag', name: 'b', attrs: null, selfClosing: false },
    ]);
    assert.deepEqual(tokens('<![CDATA[cut'), [
      { kind: 'problem', message: 'unterminated CDATA section' },
      { kind: 'cdata', value: 'cut' },
    ]);
  });
});

describe('parseXml', () => {
  it('closes mis-nested and unclosed elements and resolves namespaces', () => {
    const doc = parseXml('<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>T <b>bold</i></title></entry><dc:x>y</dc:x>');
    assert.equal(doc.root?.local, 'feed');
    assert.equal(doc.root?.ns, 'http://www.w3.org/2005/Atom');
    const entry = doc.root?.children[0];
    assert.ok(entry?.kind === 'element');
    assert.equal(textContent(entry), 'T bold');
    const dc = doc.root?.children[1];
    assert.ok(dc?.kind === 'element');
    assert.equal(dc.ns, 'http://purl.org/dc/elements/1.1/');
  });
});

describe('parseXml: recovery reporting', () => {
  it('reports nothing for a well-formed document, even with a refused DTD entity declared but unused', () => {
    const doc = parseXml('<!DOCTYPE r [<!ENTITY a "&b;">]><r x="1 &amp; 2">A &lt; B &#169; &#xA9; &eacute;<![CDATA[ & < ]]></r>');
    assert.equal(doc.recovery, null);
    assert.deepEqual(doc.problems, ['ignored entity "a"'], 'the refusal is a note, not a repair');
  });

  it('reports elements left open at the end, innermost first, one problem each', () => {
    const doc = parseXml('<rss><channel><item><title>unclosed');
    assert.deepEqual(doc.recovery, { first: 'unclosed <title> at end of document', count: 4 });
  });

  it('reports mis-nested and unexpected end tags', () => {
    assert.deepEqual(parseXml('<a><b>x</a>').recovery, { first: 'mis-nested end tag </a>', count: 1 });
    assert.deepEqual(parseXml('<a>x</b></a>').recovery, { first: 'unexpected end tag </b>', count: 1 });
  });

  it('removes undefined entity references from text and attributes, and reports them', () => {
    const doc = parseXml('<r a="x&foo;y">one &lol9; two &amp; &nbsp;</r>');
    assert.ok(doc.root);
    assert.equal(textContent(doc.root), 'one  two & \u00a0');
    assert.equal(doc.root.attrs.get('a'), 'xy');
    assert.deepEqual(doc.recovery, { first: 'undefined entity &foo;', count: 2 });
  });

  it('says why a declared entity was not expanded', () => {
    const nested = parseXml('<!DOCTYPE r [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;">]><r>&lol; &lol1;</r>');
    assert.ok(nested.root);
    assert.equal(textContent(nested.root), 'lol ');
    assert.equal(nested.recovery?.first, 'entity &lol1; not expanded: its declared value holds references or markup');
    const budget = parseXml('<!DOCTYPE r [<!ENTITY big "0123456789">]><r>&big;&big;&big;</r>', { maxEntityExpansion: 25 });
    assert.ok(budget.root);
    assert.equal(textContent(budget.root), '01234567890123456789');
    assert.equal(budget.recovery?.first, 'entity &big; not expanded: the document used up its entity expansion budget');
  });

  it("reports a bare '&' but keeps it as text", () => {
    const doc = parseXml('<r>AT&T and Q&amp;A</r>');
    assert.ok(doc.root);
    assert.equal(textContent(doc.root), 'AT&T and Q&A');
    assert.deepEqual(doc.recovery, { first: "bare '&' in text", count: 1 });
  });

  it('counts every problem but keeps only the first 20', () => {
    const doc = parseXml(`<r>${'</x>'.repeat(50)}</r>`);
    assert.equal(doc.recovery?.count, 50);
    assert.equal(doc.problems.length, 20);
  });
});
