import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { ownWorkerSlot } from '../cluster/messages.js';
import { metricsRegistry } from './registry.js';

/**
 * One /metrics answer for the whole machine when `gitfleet serve` runs as cluster workers: a scrape
 * lands on one worker, which asks the primary over IPC; the primary gathers every worker's registry
 * (prom-client's AggregatorRegistry; every series carries its worker's slot, so none are summed)
 * and answers with the text.
 */

const REQUEST = 'gitfleet:metrics-request';
const ANSWER = 'gitfleet:metrics-answer';
/** Longer than the 5 s prom-client's clusterMetrics() gives the workers, so that its own timeout is the one reported. */
const DEFAULT_PRIMARY_TIMEOUT_MS = 10_000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}

interface MetricsAnswer {
  type: typeof ANSWER;
  id: number;
  body?: string;
  error?: string;
}

export interface MetricsText {
  contentType: string;
  body: string;
}

let answering = false;

/** Called once by the cluster primary: answers workers' requests with the aggregated text of every worker. */
export function answerMetricsRequestsInPrimary(): void {
  if (!cluster.isPrimary) throw new Error('answerMetricsRequestsInPrimary: this process is not the cluster primary');
  if (answering) return;
  answering = true;
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const reply = (answer: Omit<MetricsAnswer, 'type' | 'id'>) => {
      if (worker.isConnected()) worker.send({ type: ANSWER, id: message.id, ...answer } satisfies MetricsAnswer);
    };
    aggregator.clusterMetrics().then(
      (body) => reply({ body }),
      (error: unknown) => reply({ error: `aggregating the workers' metrics: ${(error as Error).message}` }),
    );
  });
}

/**
 * Called once by each cluster worker at start-up: prom-client's requests from the primary are
 * answered with this process's registry (not prom-client's global one, which nothing here uses).
 */
export function reportMetricsToPrimary(): void {
  if (ownWorkerSlot() === undefined) return;
  AggregatorRegistry.setRegistries([metricsRegistry]);
  // Its constructor is what installs the worker's listener of the primary's requests.
  new AggregatorRegistry();
}

/**
 * What GET /metrics answers: in a cluster worker, the whole machine's metrics from the primary
 * (rejects when it does not answer within `timeoutMs`); in a process of its own, its registry.
 */
export async function machineMetrics(timeoutMs = DEFAULT_PRIMARY_TIMEOUT_MS): Promise<MetricsText> {
  const body = ownWorkerSlot() !== undefined ? await askPrimary(timeoutMs) : await metricsRegistry.metrics();
  return { contentType: metricsRegistry.contentType, body };
}

let nextRequestId = 0;

function askPrimary(timeoutMs: number): Promise<string> {
  const id = nextRequestId++;
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      clearTimeout(timer);
      process.off('message', onMessage);
      outcome();
    };
    const onMessage = (message: unknown) => {
      if (!isMessage<MetricsAnswer>(message, ANSWER) || message.id !== id) return;
      settle(() =>
        message.body !== undefined ? resolve(message.body) : reject(new Error(`metrics: the cluster primary failed: ${message.error}`)),
      );
    };
    const timer = setTimeout(
      () =>
        settle(() =>
          reject(
            new Error(
              `metrics: the cluster primary did not answer within ${timeoutMs} ms (it answers only once it has called answerMetricsRequestsInPrimary())`,
            ),
          ),
        ),
      timeoutMs,
    );
    process.on('message', onMessage);
    if (!process.send) {
      settle(() => reject(new Error('metrics: this worker has no channel to the cluster primary')));
      return;
    }
    process.send({ type: REQUEST, id } satisfies MetricsRequest, undefined, undefined, (error: Error | null) => {
      if (error) settle(() => reject(new Error(`metrics: asking the cluster primary: ${error.message}`)));
    });
  });
}

function isMessage<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}
