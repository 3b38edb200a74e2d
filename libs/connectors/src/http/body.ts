import { Readable, pipeline, type Transform } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { SourceError } from '../errors.js';

/** Thrown (internally) when a body exceeds the byte limit; mapped to SourceError('too_large'). */
function tooLarge(maxBytes: number, url: string, decompressed: boolean): SourceError {
  const suffix = decompressed ? ' after decompression' : '';
  return new SourceError('too_large', `response larger than ${maxBytes} bytes${suffix}`, { url });
}

/** Passes chunks through, failing as soon as more than maxBytes went by. */
async function* capped(source: AsyncIterable<unknown>, maxBytes: number, url: string): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of source) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buf.length;
    if (total > maxBytes) throw tooLarge(maxBytes, url, false);
    yield buf;
  }
}

function pipeThrough(source: AsyncIterable<Buffer>, transform: Transform): AsyncIterable<Buffer> {
  // pipeline() propagates errors both ways and destroys everything on failure or early exit.
  pipeline(Readable.from(source), transform, () => {});
  return transform as AsyncIterable<Buffer>;
}

async function* prepend(first: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Decodes one content-coding. Tolerates truncated streams (keeps what could be decoded). */
async function* decodeOne(source: AsyncIterable<Buffer>, coding: string, url: string): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return; // an empty body needs no decoding
  let transform: Transform;
  if (coding === 'gzip' || coding === 'x-gzip') {
    transform = createGunzip({ finishFlush: constants.Z_SYNC_FLUSH });
  } else if (coding === 'deflate') {
    // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
    const b0 = first.value[0] ?? 0;
    transform = (b0 & 0x0f) === 8 ? createInflate({ finishFlush: constants.Z_SYNC_FLUSH }) : createInflateRaw({ finishFlush: constants.Z_SYNC_FLUSH });
  } else if (coding === 'br') {
    transform = createBrotliDecompress({ finishFlush: constants.BROTLI_OPERATION_FLUSH });
  } else {
    throw new SourceError('decode', `unsupported content-encoding "${coding}"`, { url });
  }
  try {
    yield* pipeThrough(prepend(first.value, it), transform);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    throw new SourceError('decode', `could not decode ${coding} response body: ${detail}`, { url, cause: err });
  }
}

/** Parses a Content-Encoding header into the codings to undo, outermost first. */
export function contentCodings(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity')
    .reverse();
}

/**
 * Reads a response body, undoing content codings, with the same byte cap on the wire size and on
 * the decoded size (so a gzip bomb stops at maxBytes of output).
 */
export async function readBody(source: AsyncIterable<unknown>, codings: readonly string[], maxBytes: number, url: string): Promise<Buffer> {
  let stream: AsyncIterable<Buffer> = capped(source, maxBytes, url);
  for (const coding of codings) stream = decodeOne(stream, coding, url);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > maxBytes) throw tooLarge(maxBytes, url, codings.length > 0);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
