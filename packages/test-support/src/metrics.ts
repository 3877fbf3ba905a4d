// Reading a Gitfleet server's GET /metrics (Prometheus text exposition) in tests and benchmarks.

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** One answer of /metrics, parsed (label values here hold no quotes or commas). */
export class MetricsScrape {
  constructor(readonly samples: readonly MetricSample[]) {}

  static parse(text: string): MetricsScrape {
    const samples: MetricSample[] = [];
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) continue;
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
      samples.push({ name: match[1], labels, value: Number(match[3]) });
    }
    return new MetricsScrape(samples);
  }

  /** The sum of the samples of `name` that carry every label of `labels` (0 when there is none). */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples
      .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
      .reduce((total, sample) => total + sample.value, 0);
  }

  /** How much `name` (with `labels`) grew since `before`. */
  since(before: MetricsScrape, name: string, labels: Record<string, string> = {}): number {
    return this.sum(name, labels) - before.sum(name, labels);
  }
}

/** GET `baseUrl`/metrics (open to clients on the server's own machine), parsed; throws unless it answers 200. */
export async function scrapeMetrics(baseUrl: string): Promise<MetricsScrape> {
  const response = await fetch(`${baseUrl}/metrics`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${response.status}: ${text.slice(0, 200)}`);
  return MetricsScrape.parse(text);
}
