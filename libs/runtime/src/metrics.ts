/**
 * A minimal Prometheus text-format registry: counters with labels, and gauges whose values
 * are read at scrape time (queue depth is asked from Redis only when someone scrapes).
 * Enough for our dozen series without pulling in a metrics framework.
 */
export type Labels = Readonly<Record<string, string>>;

interface CounterSeries {
  help: string;
  values: Map<string, { labels: Labels; value: number }>;
}

export type GaugeSample = { labels?: Labels; value: number };
export type GaugeCollector = () => Promise<GaugeSample[]> | GaugeSample[];

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function formatLabels(labels: Labels | undefined): string {
  if (!labels || Object.keys(labels).length === 0) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return `{${parts.join(',')}}`;
}

export class MetricsRegistry {
  private readonly counters = new Map<string, CounterSeries>();
  private readonly gauges = new Map<string, { help: string; collect: GaugeCollector }>();

  /** Declares a counter (idempotent) and returns a function that increments it. */
  counter(name: string, help: string): (by?: number, labels?: Labels) => void {
    if (!this.counters.has(name)) this.counters.set(name, { help, values: new Map() });
    const series = this.counters.get(name) as CounterSeries;
    return (by = 1, labels = {}) => {
      const key = labelKey(labels);
      const current = series.values.get(key);
      if (current) current.value += by;
      else series.values.set(key, { labels, value: by });
    };
  }

  gauge(name: string, help: string, collect: GaugeCollector): void {
    this.gauges.set(name, { help, collect });
  }

  /** The exposition text. A gauge whose collector fails is left out, not the whole scrape. */
  async render(): Promise<string> {
    const lines: string[] = [];
    for (const [name, series] of this.counters) {
      lines.push(`# HELP ${name} ${series.help}`, `# TYPE ${name} counter`);
      if (series.values.size === 0) lines.push(`${name} 0`);
      for (const { labels, value } of series.values.values()) lines.push(`${name}${formatLabels(labels)} ${value}`);
    }
    for (const [name, gauge] of this.gauges) {
      let samples: GaugeSample[];
      try {
        samples = await gauge.collect();
      } catch {
        continue;
      }
      lines.push(`# HELP ${name} ${gauge.help}`, `# TYPE ${name} gauge`);
      for (const sample of samples) lines.push(`${name}${formatLabels(sample.labels)} ${sample.value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
