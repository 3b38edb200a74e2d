export { MetricsRegistry, type GaugeCollector, type GaugeSample, type Labels } from './metrics.js';
export { startHealthServer, type HealthServer, type HealthServerOptions, type ReadinessCheck } from './health-server.js';
export { onShutdownSignal, exitOnStartupError } from './shutdown.js';
