import { createHash, timingSafeEqual } from 'node:crypto';

/** HTTP Basic credentials (RFC 7617). */
export interface Credentials {
  user: string;
  password: string;
}

/** The `WWW-Authenticate` header of a 401: browsers show their login prompt for it. */
export const BASIC_AUTH_CHALLENGE = 'Basic realm="radar dashboard", charset="UTF-8"';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads `Authorization: Basic base64(user:password)`. Anything else (another scheme, bad
 * base64, no `:`) is undefined. The password may contain `:`; the user may not (RFC 7617).
 */
export function parseBasicAuth(header: string | undefined): Credentials | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic[ ]+(\S+)[ ]*$/i.exec(header);
  const encoded = match?.[1];
  if (encoded === undefined || encoded.length % 4 !== 0 || !BASE64.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Compares two strings in time that depends on neither where they differ nor their lengths:
 * both are hashed first (timingSafeEqual needs equal lengths, and hashing hides the length).
 */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** True when the header carries exactly the expected user and password. Both are always compared. */
export function checkBasicAuth(header: string | undefined, expected: Credentials): boolean {
  const given = parseBasicAuth(header);
  // No short circuit: a wrong user name costs the same time as a wrong password.
  const userOk = safeEqual(given?.user ?? '', expected.user);
  const passwordOk = safeEqual(given?.password ?? '', expected.password);
  return given !== undefined && userOk && passwordOk;
}
