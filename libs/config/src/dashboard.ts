import { isIP } from 'node:net';
import { readConnectionConfig, type ConnectionConfig } from './config.js';
import { ConfigError } from './errors.js';
import { ConfigReader, type Env } from './reader.js';

/** Defaults of the `radar dashboard` variables (for `.env.example` and the README). */
export const DASHBOARD_DEFAULTS = {
  DASHBOARD_PORT: 3000,
  DASHBOARD_HOST: '127.0.0.1',
  DASHBOARD_USER: 'admin',
  DASHBOARD_READ_ONLY: false,
} as const;

/** `radar dashboard`: Bull Board over the `scheduler` and `pipeline` queues. */
export interface DashboardConfig extends ConnectionConfig {
  /** 0 lets the OS pick a free port; the chosen one is logged at start-up. */
  port: number;
  host: string;
  /** Basic-auth credentials; undefined only on a loopback host without DASHBOARD_PASSWORD. */
  credentials: { user: string; password: string } | undefined;
  /** Bull Board's readOnlyMode on every queue: no retry, remove, clean, pause, add... */
  readOnly: boolean;
}

/** What `radar dashboard --port/--host/--read-only` may override; flags win over the environment. */
export interface DashboardOverrides {
  port?: number;
  host?: string;
  readOnly?: boolean;
}

/** An IP address or a DNS host name (letters, digits, `-`, dots); no scheme, port or path. */
export function isValidHost(host: string): boolean {
  if (isIP(host) !== 0) return true;
  return host.length <= 253 && /^(?=.*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(host);
}

/**
 * Loopback only: `localhost`, 127.0.0.0/8, `::1` (also IPv4-mapped). `0.0.0.0` and `::` listen
 * on every interface, so they are not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Reads the dashboard's configuration; `overrides` (the command-line flags) replace the
 * corresponding variables before the cross-checks, so `--host 0.0.0.0` without a password is
 * refused exactly like `DASHBOARD_HOST=0.0.0.0` would be.
 */
export function readDashboardConfig(env: Env = process.env, overrides: DashboardOverrides = {}): DashboardConfig {
  const r = new ConfigReader(env);
  const connection = readConnectionConfig(env);
  // The variables are validated even when a flag replaces them: a bad .env is reported, not masked.
  const envPort = r.number('DASHBOARD_PORT', DASHBOARD_DEFAULTS.DASHBOARD_PORT, { min: 0, max: 65_535, integer: true });
  const envHost = r.string('DASHBOARD_HOST', DASHBOARD_DEFAULTS.DASHBOARD_HOST).trim();
  if (!isValidHost(envHost)) {
    throw new ConfigError('DASHBOARD_HOST', `DASHBOARD_HOST must be an IP address or a host name, got "${envHost}"`);
  }
  const envReadOnly = r.boolean('DASHBOARD_READ_ONLY', DASHBOARD_DEFAULTS.DASHBOARD_READ_ONLY);
  const port = overrides.port ?? envPort;
  const host = overrides.host ?? envHost;
  const readOnly = overrides.readOnly ?? envReadOnly;
  const user = r.string('DASHBOARD_USER', DASHBOARD_DEFAULTS.DASHBOARD_USER);
  // Basic auth sends `user:password`; a ':' in the user name would make it ambiguous.
  if (user.includes(':') || /[\s\p{Cc}]/u.test(user)) {
    throw new ConfigError('DASHBOARD_USER', 'DASHBOARD_USER must not contain ":", spaces or control characters');
  }
  const password = r.string('DASHBOARD_PASSWORD', '');
  if (password === '' && !isLoopbackHost(host)) {
    throw new ConfigError(
      'DASHBOARD_PASSWORD',
      `DASHBOARD_PASSWORD must be set when the dashboard listens on a non-loopback address (host "${host}")`,
    );
  }
  return {
    ...connection,
    port,
    host,
    credentials: password === '' ? undefined : { user, password },
    readOnly,
  };
}
