import { decodeBytes } from '../text/charset.js';

/** How much of the body is decoded to sniff its start: a doctype comes first if at all. */
const SNIFF_BYTES = 1024;
/** `<!doctype html` or `<html`, after a BOM and white space, in any case. */
const HTML_START = /^(?:<!doctype\s+html|<html)/i;

function isHtmlContentType(contentType: string | null): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === 'text/html';
}

/**
 * Whether a body that failed to parse as a feed is an HTML page: served as text/html, or
 * starting like an HTML document whatever it was served as. Blank bodies are not pages.
 */
export function htmlInsteadOfFeed(body: Buffer, contentType: string | null): boolean {
  const head = decodeBytes(body.subarray(0, SNIFF_BYTES), contentType).text.replace(/^\ufeff/, '').trimStart();
  if (head === '') return false;
  return isHtmlContentType(contentType) || HTML_START.test(head);
}
