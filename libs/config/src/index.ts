export * from './config.js';
export { ConfigError } from './errors.js';
export { ConfigReader, redactUrl, type Env } from './reader.js';
export { loadConfigOrExit } from './load.js';
export {
  DASHBOARD_DEFAULTS,
  isLoopbackHost,
  isValidHost,
  readDashboardConfig,
  type DashboardConfig,
  type DashboardOverrides,
} from './dashboard.js';
