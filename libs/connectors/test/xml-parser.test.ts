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
