import { ConfigReader, LOG_LEVELS, readCliConfig, type CliConfig, type Env, type LogLevel } from '@aharadar/config';

/** The CLI's configuration: the shared {@link CliConfig} plus what only `radar` needs. */
export interface RadarConfig extends CliConfig {
  /**
   * Log level of the libraries the CLI calls (the pipeline in `radar run`). Unlike the
   * services, `radar` is silent unless LOG_LEVEL is set: its output is the table or JSON on
   * stdout, and log lines (always on stderr) are for debugging only.
   */
  libraryLogLevel: LogLevel;
}

export function readRadarConfig(env: Env = process.env): RadarConfig {
  const r = new ConfigReader(env);
  return {
    ...readCliConfig(env),
    libraryLogLevel: r.oneOf('LOG_LEVEL', 'silent', LOG_LEVELS),
  };
}
