import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { SourceError, htmlToText, parseFeed, parseFeedDocument } from '../src/index.js';
import type { FeedDocument } from '../src/index.js';

/**
 * The feedparser test corpus in ../shared/feed-corpus (see its README.md): every file must parse
 * or fail with SourceError('parse'), and we count how many of expectations.json's checks hold.
 */
const CORPUS = findCorpus();
/** Raise this when the parser gets better; a drop below it is a regression. */
const MIN_EXPECTATIONS_HOLDING = 140;

/**
 * The corpus lives in `shared/feed-corpus` beside the checkout. Git worktrees sit deeper than
 * the main checkout, so look in every ancestor directory instead of at one fixed relative path
 * (a fixed path silently skipped this test in worktrees). FEED_CORPUS_DIR overrides.
 */
function findCorpus(): string {
  const override = process.env.FEED_CORPUS_DIR;
  if (override) return override;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'shared', 'feed-corpus');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return candidate;
    dir = parent;
  }
}

interface Expectation {
  file: string;
  target: 'feed' | 'item';
  index: number | null;
  field: 'title' | 'url' | 'id' | 'published' | 'summary' | 'content' | 'author';
  equals: string;
  expect: string;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/**
 * The HTTP Content-Type a corpus file stands for. feedparser's own harness reads it from the
 * file's "Header: Content-type: ..." comment line; failing that it is derived from the name
 * (http_application_atom_xml_* -> application/atom+xml, http_text_xml_* -> text/xml, ...).
 */
function corpusContentType(rel: string, body: Buffer): string | null {
  const header = /^Header:\s*Content-type:\s*(.+?)\s*$/im.exec(body.subarray(0, 4096).toString('latin1'));
  if (header?.[1]) return header[1];
  const name = rel.split('/').pop() ?? '';
  const m = /^(?:bozo_)?http_(application|text)_([a-z]+?)_xml(?:_|\.)/.exec(name);
  if (!m) return null;
  const sub = m[2] === 'xml' ? 'xml' : `${m[2]}+xml`;
  return `${m[1]}/${sub}`;
}

/** Compare as text: tags removed, entities decoded, white space collapsed (README). */
function comparable(value: string): string {
  return htmlToText(value);
}

function actualValue(doc: FeedDocument, exp: Expectation): string | null {
  const target = exp.target === 'feed' ? doc : doc.entries[exp.index ?? 0];
  if (!target) return null;
  switch (exp.field) {
    case 'title':
      return target.title;
    case 'url':
      return target.link;
    case 'id':
      return target.id;
    case 'summary':
      return target.summary;
    case 'content':
      return 'content' in target ? target.content : null;
    case 'author':
      return target.author;
    case 'published':
      return target.publishedAt ? target.publishedAt.toISOString().replace(/\.000Z$/, 'Z') : null;
  }
}

function holds(actual: string | null, expected: string): boolean {
  // Our values are already plain text. feedparser's keep markup for HTML content and
  // don't for text/plain content, so accept the expected value read either way.
  const got = (actual ?? '').replace(/\s+/g, ' ').trim();
  return got === comparable(expected) || got === expected.replace(/\s+/g, ' ').trim();
}

describe('feed corpus', { skip: existsSync(CORPUS) ? false : `feed corpus not found at ${CORPUS}` }, () => {
  it('parses every file or rejects it with SourceError("parse"), and meets the expectations', () => {
    const files = listFiles(CORPUS).filter((f) => /\.(xml|json|rdf|rss|atom)$/.test(f) && !f.endsWith('expectations.json'));
    assert.ok(files.length > 500, `only ${files.length} corpus files found`);
    const docs = new Map<string, FeedDocument>();
    let rejected = 0;
    for (const file of files) {
      const rel = relative(CORPUS, file).split('\\').join('/');
      const body = readFileSync(file);
      const contentType = corpusContentType(rel, body);
      try {
        docs.set(rel, parseFeedDocument(body, contentType));
        parseFeed(body, contentType); // the normalising path must not throw either
      } catch (err) {
        assert.ok(err instanceof SourceError && err.code === 'parse', `${rel}: threw ${String(err)}`);
        rejected++;
      }
    }

    const expectations = JSON.parse(readFileSync(join(CORPUS, 'expectations.json'), 'utf8')) as Expectation[];
    const failures: string[] = [];
    let holding = 0;
    for (const exp of expectations) {
      const doc = docs.get(exp.file);
      const actual = doc ? actualValue(doc, exp) : null;
      if (doc && holds(actual, exp.equals)) holding++;
      else failures.push(`  ${exp.file} ${exp.target}${exp.index ?? ''}.${exp.field}: expected ${JSON.stringify(exp.equals)}, got ${JSON.stringify(actual)}`);
    }
    console.log(`feed corpus: ${holding}/${expectations.length} expectations hold (${files.length} files, ${rejected} rejected as not a feed)`);
    if (failures.length > 0) console.log(`not holding:\n${failures.join('\n')}`);
    assert.ok(holding >= MIN_EXPECTATIONS_HOLDING, `only ${holding}/${expectations.length} expectations hold (floor ${MIN_EXPECTATIONS_HOLDING})`);
  });
});
