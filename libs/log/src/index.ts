export { createLogger, redactSecrets, type Logger, type LoggerFactoryOptions } from './logger.js';
