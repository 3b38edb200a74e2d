import { SourceError } from './errors.js';

/** Shared checks for connector configs; every failure is SourceError('config'). */
export function configError(type: string, message: string): SourceError {
  return new SourceError('config', `invalid ${type} source config: ${message}`);
}

export function expectObject(type: string, json: unknown): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw configError(type, `expected an object, got ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}`);
  }
  return json as Record<string, unknown>;
}

export function rejectUnknownKeys(type: string, obj: Record<string, unknown>, known: readonly string[]): void {
  const unknown = Object.keys(obj).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw configError(type, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')} (allowed: ${known.join(', ')})`);
}

/** An absolute http(s) URL, returned normalised by the URL parser. */
export function httpUrl(type: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw configError(type, `"${field}" must be a non-empty URL string`);
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw configError(type, `"${field}" is not a valid URL: ${value.trim().slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError(type, `"${field}" must be an http or https URL, got ${url.protocol.replace(/:$/, '')}:`);
  return url.href;
}
