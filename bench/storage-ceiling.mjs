// The storage ceiling: the lookup a FHIR read comes down to (one resource by its primary key), as fast as
// `connections` concurrent callers can repeat it for `seconds`, with no HTTP and no FHIR around it.
import pg from 'pg';

export const PK_LOOKUP = 'SELECT content FROM resource WHERE resource_type = $1 AND id = $2';

/** On PostgreSQL: `connections` clients of one pool, each with the lookup as a prepared statement. */
export async function pkLoop(databaseUrl, id, seconds, connections) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  try {
    return await lookupLoop(() => pool.query({ name: 'pk', text: PK_LOOKUP, values: ['Patient', id] }), seconds, connections);
  } finally {
    await pool.end();
  }
}

/** `connections` callers repeating `lookup` until `seconds` have passed: rate and latency percentiles (ms). */
export async function lookupLoop(lookup, seconds, connections) {
  const latencies = [];
  const until = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < until) {
      const started = process.hrtime.bigint();
      await lookup();
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  latencies.sort((a, b) => a - b);
  const at = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] * 100) / 100;
  return { requestsPerSecond: latencies.length / seconds, requests: latencies.length, latency: { p50: at(50), p95: at(95), p99: at(99) } };
}
