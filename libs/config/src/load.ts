import { ConfigError } from './errors.js';
import type { Env } from './reader.js';

/**
 * Reads a config at start-up; on a bad value prints one line naming the variable and exits 1.
 * Used before a logger exists (the log level is itself configuration), hence stderr.
 */
export function loadConfigOrExit<T>(app: string, read: (env: Env) => T, env: Env = process.env): T {
  try {
    return read(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${app}: invalid configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}
