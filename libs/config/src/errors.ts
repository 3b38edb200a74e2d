/**
 * Raised when the environment does not hold a usable configuration. The message names the
 * variable and what was expected, so `main.ts` can print it as the one line an operator sees.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}
