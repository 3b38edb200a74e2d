export * from './config.js';
export { ConfigError } from './errors.js';
export { ConfigReader, hasUnencodedUserinfo, redactSecrets, redactUrl, type Env } from './reader.js';
export { VARIABLES, variablesReadBy, type ComposeHandling, type EnvProcess, type EnvVariable } from './variables.js';
export { loadConfigOrExit } from './load.js';
export {
  DASHBOARD_DEFAULTS,
  isLoopbackHost,
  isValidHost,
  readDashboardConfig,
  type DashboardConfig,
  type DashboardOverrides,
} from './dashboard.js';
