export {
  MetricsRegistry,
  METRICS_COLLECT_DEADLINE_MS,
  type CounterFn,
  type GaugeCollector,
  type GaugeSample,
  type Labels,
  type MetricsRegistryOptions,
  type ObserveFn,
} from './metrics.js';
export { startHealthServer, READINESS_CHECK_TIMEOUT_MS, type HealthServer, type HealthServerOptions, type ReadinessCheck } from './health-server.js';
export { exitOnStartupError, FORCED_RELEASE_MS, gracefulStop, onShutdownSignal, type GracefulStopOptions } from './shutdown.js';
