// The storage ceiling on PGlite, run as its own process (pinned to the core the server will use, since the
// embedded database works inside the server's process): opens DATA_DIR after the import and before the server
// (one process at a time), takes the scenarios' ids, runs the primary-key lookup loop, and prints both as JSON.
//
//   node bench/storage-ceiling-pglite.mjs <dataDir> <seconds> <connections>
import { PGlite } from '@electric-sql/pglite';
import { sampleIds } from './sample-ids.mjs';
import { lookupLoop, PK_LOOKUP } from './storage-ceiling.mjs';

const [dataDir, seconds, connections] = process.argv.slice(2);
const db = await PGlite.create(dataDir);
try {
  const ids = await sampleIds(async (sql) => (await db.query(sql)).rows);
  // PGlite runs one query at a time: the concurrent callers queue on it, as the server's requests do.
  const ceiling = await lookupLoop(() => db.query(PK_LOOKUP, ['Patient', ids.patient]), Number(seconds), Number(connections));
  process.stdout.write(`${JSON.stringify({ ids, ceiling })}\n`);
} finally {
  await db.close();
}
