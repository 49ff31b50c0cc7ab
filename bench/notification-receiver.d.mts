// Types of notification-receiver.mjs, for test/bench/notification-receiver.test.ts.
export interface ReadEvent {
  number: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  /** Type/id */
  focus: string | undefined;
}
export interface Summary {
  count: number;
  min: number | undefined;
  p50: number | undefined;
  p95: number | undefined;
  p99: number | undefined;
  max: number | undefined;
}
export function now(): number;
export function readNotification(bundle: unknown): { type: string | undefined; events: ReadEvent[] };
export function percentile(values: number[], p: number): number | undefined;
export function summary(values: number[]): Summary;
export function startReceiver(): Promise<{
  received: Array<{ subscriber: number; at: number; type: string | undefined; events: ReadEvent[] }>;
  malformed: number;
  onReceive: ((entry: unknown) => void) | undefined;
  url(n: number): string;
  close(): Promise<void>;
}>;
