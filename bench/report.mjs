import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// docs/PERFORMANCE.md from one run's results (bench/run.mjs): the machine, one table per database with ratios to
// the ceilings, the databases side by side, growth when measured, and each target of the benchmarks issue (they
// name PostgreSQL) against what was measured, gaps stated as they are.

// The performance issue's targets (issue 19): PostgreSQL, 10 connections, with authorization, consent and audit in force.
const TARGETS = [
  { what: 'read by id', scenario: 'read Patient by id', rps: 5000 },
  { what: 'search', scenario: 'search CarePlan?patient=…&status=active', rps: 2000 },
  { what: 'create', scenario: 'create CarePlan (validated, audited)', rps: 1000 },
];
const IMPORT_TARGET = 5000;
const P99_TARGET_MS = 20;
// A partner's consent-gated scenario against the host's same request (the host is not held by consent).
const PARTNER_PAIRS = [
  { partner: 'partner: read CarePlan by id (consent permits)', host: 'read CarePlan by id' },
  { partner: 'partner: search CarePlan?patient=…&status=active (consent permits)', host: 'search CarePlan?patient=…&status=active' },
];
const PARTNER_SHARE = 0.7;
const PGLITE_SHARE = 0.4;

const fixed = (n, digits = 0) => (n === undefined || Number.isNaN(Number(n)) ? '–' : Number(n).toFixed(digits));
const percent = (ratio) => (ratio === undefined ? '–' : `${fixed(ratio * 100, 1)} %`);
const importRate = (db) => db.dataset.resources / db.dataset.importSeconds;

/** Runs before the PGlite column had one database, at the top level: read them as PostgreSQL. */
function normalized(results) {
  if (results.databases) return results;
  const { scenarios, dataset, ceilings, ...rest } = results;
  return { ...rest, ceilings: { http: ceilings.http }, databases: [{ name: 'postgres', label: 'PostgreSQL', dataset, ceilings: { storage: ceilings.storage }, scenarios }] };
}

function databaseSection(db, results, previous) {
  const before = previous?.databases.find((p) => p.name === db.name);
  const ratioToPrevious = (s) => {
    const earlier = before?.scenarios.find((p) => p.name === s.name)?.requestsPerSecond;
    return earlier ? `${fixed(s.requestsPerSecond / earlier, 2)} ×` : '–';
  };
  const rows = db.scenarios.map(
    (s) =>
      `| ${s.name} | ${fixed(s.requestsPerSecond)} | ${fixed(s.latency.p50, 1)} | ${fixed(s.latency.p95, 1)} | ${fixed(s.latency.p99, 1)} | ${s.errors + s.non2xx} | ${fixed(s.rssMb)} | ${percent(s.ratioToHttpCeiling)} | ${percent(s.ratioToStorageCeiling)} | ${ratioToPrevious(s)} |`,
  );
  const storage = db.ceilings.storage;
  const where = db.name === 'pglite'
    ? 'PGlite runs inside the server\'s process, so its RSS includes the database, and its storage ceiling was measured in a process of its own on the server\'s core, before the server started'
    : 'PostgreSQL\'s processes are not in the RSS';
  return `## ${db.label}

${db.dataset.resources.toLocaleString('en')} resources imported from the Synthea files by \`npm run import\`'s in-process path with its defaults (one
transaction per file, validated, indexed and audited, ending with ANALYZE) in ${fixed(db.dataset.importSeconds)} s: **${fixed(importRate(db))} resources/s**. Storage ceiling: **${fixed(storage.requestsPerSecond)} lookups/s** (p95
${fixed(storage.latency.p95, 2)} ms) with ${results.connections} concurrent callers. ${where}.

| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | server RSS MB | of HTTP ceiling | of storage ceiling | ÷ previous run |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

function sideBySide(databases) {
  if (databases.length < 2) return '';
  const [first, ...others] = databases;
  const header = `| | ${databases.map((db) => `${db.label} req/s`).join(' | ')} | ${others.map((db) => `${db.label} ÷ ${first.label}`).join(' | ')} |`;
  const line = `|---|${databases.map(() => '---|').join('')}${others.map(() => '---|').join('')}`;
  const row = (label, value) => `| ${label} | ${databases.map((db) => fixed(value(db))).join(' | ')} | ${others.map((db) => (value(first) ? fixed(value(db) / value(first), 2) : '–')).join(' | ')} |`;
  const rows = first.scenarios.map((s) => row(s.name, (db) => db.scenarios.find((t) => t.name === s.name)?.requestsPerSecond));
  rows.push(row('transaction import (resources/s)', importRate));
  rows.push(row('storage ceiling (lookups/s)', (db) => db.ceilings.storage.requestsPerSecond));
  return `## Side by side

${header}
${line}
${rows.join('\n')}
`;
}

function targetsSection(databases, growth) {
  const postgres = databases.find((db) => db.name === 'postgres');
  const pglite = databases.find((db) => db.name === 'pglite');
  const gap = (got, want) => (got >= want ? 'met' : `not met: ${fixed((got / want) * 100)} % of the target`);
  const rows = [];
  if (postgres) {
    const byName = Object.fromEntries(postgres.scenarios.map((s) => [s.name, s]));
    for (const { what, scenario, rps } of TARGETS) {
      const got = byName[scenario]?.requestsPerSecond;
      rows.push(`| ${what} ≥ ${rps} req/s | ${fixed(got)} req/s | ${gap(got, rps)} |`);
    }
    rows.push(`| transaction import ≥ ${IMPORT_TARGET} resources/s | ${fixed(importRate(postgres))} resources/s | ${gap(importRate(postgres), IMPORT_TARGET)} |`);
    const slow = postgres.scenarios.filter((s) => s.latency.p99 > P99_TARGET_MS);
    rows.push(`| p99 ≤ ${P99_TARGET_MS} ms in every scenario | ${slow.length ? slow.map((s) => `${s.name}: ${fixed(s.latency.p99)} ms`).join('; ') : `highest ${fixed(Math.max(...postgres.scenarios.map((s) => s.latency.p99)))} ms`} | ${slow.length ? `not met in ${slow.length} of ${postgres.scenarios.length}` : 'met'} |`);
    for (const pair of PARTNER_PAIRS) {
      const [partner, host] = [byName[pair.partner], byName[pair.host]];
      const share = partner && host ? partner.requestsPerSecond / host.requestsPerSecond : undefined;
      rows.push(`| ${pair.partner.replace(/^partner: /, 'partner ')} ≥ ${fixed(PARTNER_SHARE * 100)} % of the host's | ${share === undefined ? 'not measured' : `${fixed(partner.requestsPerSecond)} ÷ ${fixed(host.requestsPerSecond)} = ${percent(share)}`} | ${share === undefined ? '–' : share >= PARTNER_SHARE ? 'met' : 'not met'} |`);
    }
  } else {
    rows.push('| read, search, create, import, p99, partners | not measured | PostgreSQL was left out of this run (BENCH_DATABASES) |');
  }
  if (postgres && pglite) {
    const shares = pglite.scenarios.flatMap((s) => {
      const on = postgres.scenarios.find((p) => p.name === s.name);
      return on ? [{ name: s.name, share: s.requestsPerSecond / on.requestsPerSecond }] : [];
    });
    const low = shares.filter((s) => s.share < PGLITE_SHARE);
    const range = shares.length ? `${percent(Math.min(...shares.map((s) => s.share)))} to ${percent(Math.max(...shares.map((s) => s.share)))}` : 'not measured';
    rows.push(`| PGlite ≥ ${fixed(PGLITE_SHARE * 100)} % of PostgreSQL in every scenario | ${range} | ${low.length ? `not met in ${low.length} of ${shares.length}` : 'met'} |`);
  }
  const errors = databases.reduce((sum, db) => sum + db.scenarios.reduce((n, s) => n + s.errors + s.non2xx, 0), 0);
  rows.push(`| zero errors in every scenario | ${errors} errors (${databases.map((db) => db.label).join(' and ')}) | ${errors ? 'not met' : 'met'} |`);
  rows.push(`| search p95 at 1M resources ≤ 1.5 × p95 at 10k | ${growthVerdict(growth)} |`);
  return `## Against the targets

The targets of the performance issue name PostgreSQL with 10 connections, authorization, consent decision and
audit record all in force; PGlite is held to a share of PostgreSQL.

| target | measured | |
|---|---|---|
${rows.join('\n')}
`;
}

/**
 * The growth target from results.growth (when the growth phase ran): each search's p95 at the largest level over
 * its p95 at the smallest; the target holds when every search's does. Levels are the ones aimed at (the counts
 * measured are a little above them).
 */
function growthVerdict(growth) {
  if (!growth?.length) return 'not measured yet | the generator of 1M resources is still to come';
  const sizes = [...growth].sort((a, b) => a.resources - b.resources);
  const [low, high] = [sizes[0], sizes[sizes.length - 1]];
  const ratios = low.scenarios.flatMap((from) => {
    const to = high.scenarios.find((s) => s.name === from.name);
    return from.latency?.p95 && to?.latency?.p95 ? [{ name: from.name, from: from.latency.p95, to: to.latency.p95, ratio: to.latency.p95 / from.latency.p95 }] : [];
  });
  if (!ratios.length) return 'not measured under load at both ends | no verdict';
  const text = ratios.map((r) => `${r.name}: ${fixed(r.from, 1)} → ${fixed(r.to, 1)} ms (${fixed(r.ratio, 2)} ×)`).join('; ');
  const span = (size) => size.level ?? size.resources;
  const verdict = span(high) >= 1_000_000 && span(low) <= 10_000 ? (ratios.every((r) => r.ratio <= 1.5) ? 'met' : 'not met') : 'levels short of 10k–1M: no verdict';
  return `p95 at ${high.resources.toLocaleString('en')} against ${low.resources.toLocaleString('en')} resources: ${text} | ${verdict}`;
}

function growthSection(growth, results) {
  if (!growth?.length) return '';
  // A run whose growth phase was measured again on its own (bench/growth.mjs) keeps the first in growthFirstRun.
  const again = results.growthFirstRun
    ? `\n\nThese levels were measured by \`node bench/growth.mjs\` on a fresh schema right after the run (${results.growthStartedAt ?? 'same day'}): the run's own growth phase had no warm-up, so its first level included the freshly started server's (kept in the results file as \`growthFirstRun\`).`
    : '';
  const rows = [];
  for (const size of [...growth].sort((a, b) => a.resources - b.resources)) {
    for (const s of size.scenarios) {
      rows.push(`| ${size.resources.toLocaleString('en')} | ${s.name}${s.skipped ? ` (${s.skipped})` : ''} | ${fixed(s.requestsPerSecond)} | ${fixed(s.latency?.p50, 1)} | ${fixed(s.latency?.p95, 1)} | ${fixed(s.latency?.p99, 1)} |`);
    }
  }
  return `## Growth

Search latency as the stored resources grow (bench/growth.mjs): synthetic CCP patients loaded through the import
path up to each level, then ANALYZE, then each search driven 3 s unrecorded and measured for the run's duration,
rotating over 50 patients spread over the data. The partner is a backend client of a partner organization
registered for the patients it asks about (consent-gated in the SQL).${again}

| stored resources | scenario | req/s | p50 ms | p95 ms | p99 ms |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

/** The profile validator's throughput (bench/validation.mjs), when measured. */
function validationSection(validation) {
  if (!validation) return '';
  const { official, guide } = validation;
  const when = validation.measuredAt ? ` on ${validation.measuredAt.slice(0, 10)}` : '';
  const types = official.slowestTypes.map(
    (t) => `| ${t.type} | ${t.resources} | ${fixed(t.msPerResource, 1)} | ${fixed(t.kbPerResource)} | ${percent(t.shareOfTime)} |`,
  );
  return `## Validation

The profile validator (server/validation/profile) measured in one process${validation.pinned ? ' on core 1' : ''} by \`bench/validation.mjs\`${when}: the definitions
loaded first (${fixed(validation.definitionsMs)} ms), then a cold pass on a fresh validator (each StructureDefinition and invariant compiled
when first met) and ${official.warm.length} warm passes. Time is validation alone, JSON parsing excluded; MB/s counts the examples' JSON.

| what | resources | cold: resources/s | warm: resources/s | warm: MB/s |
|---|---|---|---|---|
| official R4 examples against their base definitions | ${official.resources.toLocaleString('en')} (${fixed(official.megabytes)} MB) | ${fixed(official.cold.resourcesPerSecond)} | ${fixed(official.warmMedian.resourcesPerSecond)} | ${fixed(official.warmMedian.mbPerSecond, 2)} |
| CCP guide examples against the profiles they claim | ${guide.resources} (${guide.profiles} profiles) | ${fixed(guide.cold.resourcesPerSecond)} | ${fixed(guide.warm.resourcesPerSecond)} | ${fixed(guide.warm.mbPerSecond, 2)} |

Warm passes over the official examples: ${official.warm.map((w) => fixed(w.resourcesPerSecond)).join(', ')} resources/s (the table gives the median). ${official.withoutError.toLocaleString('en')} of them have no
error and ${official.withoutWarning.toLocaleString('en')} neither error nor warning (docs/CONFORMANCE.md lists the failures); the guide's
examples validated ${guide.repeat} times each in the warm pass, ${guide.withoutError} of ${guide.resources} without error.

The resource types taking longest per resource (median warm pass):

| resource type | resources | ms per resource | KB per resource | share of the pass |
|---|---|---|---|---|
${types.join('\n')}

Most of the time is FHIRPath (fhirpath.js) evaluating the core invariants, and most of that on the definitional
resources the examples are full of: StructureDefinitions (sdf-*, and eld-* on each of their element
definitions), CodeSystems (csd-1) and the Bundles that carry them (bdl-7 compares every pair of entries).
Invariants that the children present cannot break are not evaluated (server/validation/profile/invariant-guard.ts).
`;
}

/** A search on a database fed only through the API, with the server's statistics upkeep off and on (bench/statistics-upkeep.mjs). */
function statisticsUpkeepSection(upkeep) {
  if (!upkeep) return '';
  const when = upkeep.measuredAt ? ` on ${upkeep.measuredAt.slice(0, 10)}` : '';
  const all = (runs) => runs.map((run) => fixed(run.requestsPerSecond)).join(', ');
  const errors = (db) => [...db.runs.off, ...db.runs.on].reduce((sum, run) => sum + run.errors + run.non2xx, 0);
  const rows = upkeep.databases.map(
    (db) =>
      `| ${db.label} | ${fixed(db.off.requestsPerSecond)} (${all(db.runs.off)}) | ${fixed(db.off.latency.p95)} | ${fixed(db.on.requestsPerSecond)} (${all(db.runs.on)}) | ${fixed(db.on.latency.p95)} | ${fixed(db.on.requestsPerSecond / db.off.requestsPerSecond, 2)} | ${errors(db)} | ${fixed(db.firstRound.ms)} ms, ${db.firstRound.tables.length} tables | ${fixed(db.unchangedRound.msPerRound, 2)} |`,
  );
  const tuples = (t) => Object.entries(t).map(([table, n]) => `${table} ${fixed(n)}`).join(', ');
  const counts = upkeep.databases.map((db) => `${db.label}: upkeep off ${tuples(db.reltuplesOff)}; upkeep on ${tuples(db.reltuplesOn)}`);
  const inProcess = upkeep.databases.map(
    (db) => `| ${db.label} | ${fixed(db.inProcessOff.msPerSearch, 2)} | ${db.inProcessOff.plan.join(' → ')} | ${fixed(db.inProcessOn.msPerSearch, 2)} | ${db.inProcessOn.plan.join(' → ')} |`,
  );
  return `## Statistics upkeep

Measured by \`bench/statistics-upkeep.mjs\`${when}. Per database, two fresh stores side by side, each with its own server:
one started with \`STATISTICS_UPKEEP=false\`, one with the upkeep as shipped (a round every 60 s). Each is fed only
through the API, as a deployment without \`npm run import\` is (${upkeep.patients} Patients, then 3 CarePlans each, one active,
four requests at a time). Once the second server's first round after the feed has analyzed its tables,
\`CarePlan?patient=…&status=active\`, a different patient each request, is driven by autocannon (${upkeep.connections} connections,
${upkeep.seconds} s) on one server, then the other, in turn, ${upkeep.rounds} times: the machine is shared and noisy, and short
alternating runs share its noise between the two; the table gives the median run and, in brackets, every run. The
servers run any round that falls in a load (every request writes an AuditEvent, so the audit's tables drift).
Last, the cost of a round that finds nothing to analyze (the common case: one query, two on PGlite), timed in one
process on the fed store afterwards.

| database | upkeep off req/s | p95 ms | upkeep on req/s | p95 ms | on ÷ off | errors | the round that analyzed | round with nothing to do, ms |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

The planner's row counts afterwards (pg_class.reltuples; -1 is never analyzed): ${counts.join('. ')}.

The same search without HTTP, tokens or audit, on each store after its server stopped: the server's search code
(dist/) asked for each patient's active plans in turn, and the tables the plan reads, outermost first. Without
statistics the planner starts from the \`status\` token index, every active plan of every patient, a cost that grows
with the data; with them it starts from the patient's references.

| database | upkeep off ms/search | its plan | upkeep on ms/search | its plan |
|---|---|---|---|---|
${inProcess.join('\n')}
`;
}

/** The write path's validation before and after the base-definition check (bench/write-validation.mjs), when measured. */
function writeValidationSection(w) {
  if (!w) return '';
  const when = w.measuredAt ? ` on ${w.measuredAt.slice(0, 10)}` : '';
  const label = { synthea: `Synthea resources (${w.patients} patients)`, guide: "CCP guide examples (claiming their profiles)" };
  const rows = Object.entries(w.sets).flatMap(([name, set]) => {
    const v = set.variants;
    const row = (what, x) =>
      `| ${label[name] ?? name} (${set.resources}) | ${what} | ${fixed(x.cold.resourcesPerSecond)} | ${fixed(x.cold.microsPerResource)} | ${fixed(x.warm.resourcesPerSecond)} | ${fixed(x.warm.microsPerResource)} | ${x.refused} |`;
    return [row('before: schema, JSON rules, claimed profiles', v.before), row('**after: + base definition, no FHIRPath invariants** (what writes run)', v.after), row('not taken: + base definition with every core invariant', v.afterWithInvariants)];
  });
  const s = w.sets.synthea?.variants;
  const added = (x) => x.warm.microsPerResource - s.before.warm.microsPerResource;
  const cost = s
    ? `On the Synthea resources the base-definition check adds ${fixed(added(s.after))} µs per resource warm; with every core invariant it would add ${fixed(added(s.afterWithInvariants))} µs, ${fixed(added(s.afterWithInvariants) / added(s.after), 1)} times as much.`
    : '';
  const creates = w.creates
    ? `
Creates through the interactions (handleFhirRequest, validation, audit and all) on a fresh PGlite database in this process, ${w.creates.rounds} rounds of ${w.creates.count} Synthea resources per variant taking turns (median round): **${fixed(w.creates.before)} creates/s before, ${fixed(w.creates.after)} after** (rounds: ${w.creates.perRound.before.map((r) => fixed(r)).join(', ')} before; ${w.creates.perRound.after.map((r) => fixed(r)).join(', ')} after).
`
    : '';
  return `## Write-path validation

What \`validateResource\` (server/validation/validate-resource.ts) costs per write, measured by \`bench/write-validation.mjs\`${when} in one process${w.pinned ? ' on core 1' : ''}:
each variant gets a fresh validator for its cold pass (definitions loaded beforehand), then ${w.sets.synthea?.variants.before.warm.passes.length ?? '?'} warm rounds in which the
variants take turns, so that before and after share the machine's noise (the table gives each variant's median round). JSON parsing excluded.${w.loadAverage !== undefined ? ` The machine was shared: load average ${fixed(w.loadAverage, 1)} at the start and ${fixed(w.loadAverageAfter, 1)} at the end on ${w.machine?.cores ?? '?'} cores, so absolute figures are pessimistic; compare the rows.` : ''}

| resources | checks | cold: resources/s | cold: µs each | warm: resources/s | warm: µs each | refused |
|---|---|---|---|---|---|---|
${rows.join('\n')}

${cost} The core invariants stay off the write path (FHIRPath costs several times the rest of the check);
\`$validate\` and claimed profiles still evaluate them (docs/CONFORMANCE.md).
${creates}`;
}

/** What the statements the notifications bench counts most are, by how they begin (the server's SQL). */
const STATEMENTS = [
  ['SELECT coalesce(c.active', "the owner's standing (access check: store/auth-activity.ts partiesState)"],
  ['SELECT r.rid::text AS rid, r.content FROM resource r WHERE r.resource_type = $1', 'the focus read as the owner (access check: rest/reachable.ts)'],
  ['WITH RECURSIVE input AS', 'an AuditEvent with its chain link (the disclosure of a delivery; the write\'s)'],
  ["WITH done AS ( UPDATE subscription_notification SET outcome = 'delivered'", 'settling a delivery (markDelivered)'],
  ['WITH head AS MATERIALIZED', 'claiming due notifications (claimDue)'],
  ['BEGIN', 'BEGIN'],
  ['COMMIT', 'COMMIT'],
];
const statementLabel = (text) => STATEMENTS.find(([start]) => text.startsWith(start))?.[1] ?? `\`${text.slice(0, 40).replace(/\|/g, '\\|')}…\``;

/** Notification latency and throughput with rest-hook subscribers (bench/notifications.mjs), when measured. */
function notificationsSection(n) {
  if (!n) return '';
  const when = n.measuredAt ? ` on ${n.measuredAt.slice(0, 10)}` : '';
  const ms = (x) => fixed(x, x !== undefined && x < 10 ? 1 : 0);
  const three = (s) => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}`;
  const faults = (phase) => {
    const missing = phase.expected - phase.received;
    return missing || phase.duplicates || phase.outOfOrder || phase.strays ? `${missing} missing, ${phase.duplicates} duplicates, ${phase.outOfOrder} out of order` : 'none';
  };
  const busy = (phase) => `${percent(phase.serverCoreShare)} of a core; machine ${percent(phase.machineBusyShare)} busy, load ${fixed(phase.loadAverage, 1)}`;
  const latency = n.databases.map((db) => {
    const l = db.latency;
    return `| ${db.label} | ${l.received.toLocaleString('en')} (${l.events} events) | ${three(l.fromResponseMs)} | ${three(l.fromTimestampMs)} | ${ms(l.firstSubscriberMs.p50)} | ${ms(l.lastSubscriberMs.p50)} / ${ms(l.lastSubscriberMs.p95)} | ${ms(l.writeMs.p50)} | ${faults(l)} | ${busy(l)} |`;
  });
  const throughput = n.databases.map((db) => {
    const t = db.throughput;
    return `| ${db.label} | ${t.events} × ${n.subscribers} | ${fixed(t.writesPerSecond)} | ${fixed(t.seconds, 1)} | **${fixed(t.eventsPerSecond, 1)}** | **${fixed(t.notificationsPerSecond)}** | ${fixed(t.postsPerSecond)} (${fixed(t.eventsPerPost, 1)}) | ${ms(t.fromResponseMs.p50)} / ${ms(t.fromResponseMs.p95)} | ${faults(t)} | ${busy(t)} |`;
  });
  const setup = n.databases.map((db) => `${db.label} ${fixed(db.setup.activeSeconds, 1)} s`).join(', ');
  const costs = n.databases.flatMap((db) =>
    ['latency', 'throughput'].map((phase) => {
      const p = db[phase];
      const most = p.statements?.top.slice(0, 4).map((t) => `${fixed(t.perNotification, 2)} ${statementLabel(t.text)}`).join('; ');
      return `| ${db.label} | ${phase === 'latency' ? 'one event at a time' : 'throughput'} | ${fixed(p.serverCpuMsPerNotification, 2)} | ${p.statements ? fixed(p.statements.perNotification, 2) : 'not counted (in process)'} | ${most ?? '–'} |`;
    }),
  );
  const owners = n.owners === 'one' ? 'all owned by one backend client (the bootstrap client)' : 'each owned by a backend client of its own (registered through the admin API)';
  const first = n.databases[0];
  return `## Notifications

Measured by \`bench/notifications.mjs\`${when}: the server (\`SUBSCRIPTION_ALLOW_LOOPBACK=true\`${n.pinned ? ', core 1' : ''}) on a fresh PostgreSQL
schema and a fresh PGlite folder, ${n.subscribers} rest-hook Subscriptions to the topic organization-joined (id-only, max-count 20, the
default), ${owners}, each at its own path of one loopback
receiver in the bench's process${n.pinned ? ' (core 0)' : ''}: ${n.subscribers} endpoints, so ${n.subscribers} delivery queues. Events are caused by creating active
Organizations through the API (validated and audited like any write). Set-up until every Subscription was \`active\` (its
handshake delivered): ${setup}.

**Latency**: ${first?.latency.events} events, one at a time, the next no sooner than ${first?.latency.intervalMs} ms after the one before and only once
all ${n.subscribers} had the one before, so nothing queues behind another. Each subscriber's receipt of each event is timed two
ways, which bracket commit → receipt: from the write's response reaching the writer (sent after COMMIT: slightly
under) and from the event's \`timestamp\` in the notification (the version's \`meta.lastUpdated\`, stamped when the
store begins the write, before its transaction: slightly over). "First" and "last subscriber" are per event, from the write's response.

| database | notifications | from the write's response p50 / p95 / p99 ms | from the event's timestamp p50 / p95 / p99 ms | first subscriber p50 ms | last subscriber p50 / p95 ms | the write itself p50 ms | faults | server CPU |
|---|---|---|---|---|---|---|---|---|
${latency.join('\n')}

**Throughput**: ${first?.throughput.events} events written by ${first?.throughput.writers} concurrent writers as fast as they go, timed from the first write sent to the
last notification received. Notifications/s counts each event once per subscriber (events × subscribers), however
many a POST carried; POSTs/s counts the requests the receiver answered (events per POST in brackets).

| database | events × subscribers | writes/s | seconds to the last receipt | events/s | notifications/s | POSTs/s (events per POST) | latency under this load p50 / p95 ms | faults | server CPU |
|---|---|---|---|---|---|---|---|---|---|
${throughput.join('\n')}

Faults: every subscriber must get every event once, with its event numbers following one another; none is a pass.

What each event notification cost the server: its CPU over the phase divided by the notifications delivered (on
PGlite the database's work is in it), and on PostgreSQL the statements it sent, counted in the server by
\`bench/statement-counter.mjs\` (the write that caused the event included, a hundredth of it per notification).

| database | phase | server CPU ms per notification | statements per notification | the most frequent, per notification |
|---|---|---|---|---|
${costs.join('\n')}
${n.databases.some((db) => db.disclosures) ? `\nThe audit trail: ${n.databases.filter((db) => db.disclosures).map((db) => `on ${db.label}, ${db.disclosures.delivered.toLocaleString('en')} delivered disclosures (AuditEvent, DICOM Export) for the ${db.disclosures.posts.toLocaleString('en')} POSTs the receiver answered, handshakes included`).join('; ')}.\n` : ''}${n.commit ? `\nCommit measured: ${n.commit}.` : ''}${n.databases.some((db) => db.latency.loadAverage > 2) ? ' The machine was shared with other work while this ran (the load averages above, on 2 cores), so the absolute figures are low; bench/analysis.md says what bounds them.' : ''}
`;
}

/** Bulk Data export throughput and the server's RSS (bench/export.mjs), when measured. */
const EXPORT_TARGET = 50_000;
function bulkExportSection(e) {
  if (!e?.databases?.length) return '';
  const mb = (x) => fixed(x, x !== undefined && x < 10 ? 1 : 0);
  const rows = e.databases.map((db) => {
    const engineSeconds = db.engine.jobSeconds ?? db.engine.observedSeconds;
    const faults = db.mismatched.length ? `${db.mismatched.length} files not as the manifest said` : 'none';
    return `| ${db.label} | ${db.resources.toLocaleString('en')} in ${db.outputFiles} files${db.errorFiles ? ` (+${db.errorFiles} error)` : ''} | ${fixed(db.bytes / 1e6)} | ${fixed(db.totalSeconds, 1)} | **${fixed(db.resourcesPerSecond)}** | **${fixed(db.mbPerSecond, 1)}** | ${fixed(engineSeconds, 1)} (${fixed(db.engine.resourcesPerSecond)}/s) | ${fixed(db.download.seconds, 1)} (${fixed(db.download.mbPerSecond, 1)} MB/s) | ${percent(db.cpu.serverCoreShare)} | ${faults} |`;
  });
  const memory = e.databases.map((db) => {
    const m = db.memory;
    const progress = m.byProgress.at10 !== undefined || m.byProgress.at50 !== undefined ? ` (by X-Progress ${mb(m.byProgress.at10)} / ${mb(m.byProgress.at50)} / ${mb(m.byProgress.at100)})` : '';
    return `| ${db.label} | ${mb(m.beforeMb)} | ${mb(m.byTime.at10)} / ${mb(m.byTime.at50)} / ${mb(m.byTime.at100)}${progress} | ${mb(m.exportPeakMb)} | ${mb(m.downloadPeakMb)} | ${mb(m.peakMb)} |`;
  });
  const seeding = e.databases.map((db) => {
    const s = db.seeding;
    const how = s.copies?.resources
      ? `a base of ${s.base.resources.toLocaleString('en')} through createMany (${fixed(s.base.resourcesPerSecond)}/s), ${s.copies.copies} copies of its patients in SQL (${fixed(s.copies.resourcesPerSecond)}/s, value indexes built again after them in ${fixed(s.copies.indexSeconds)} s), ${s.checked ? `${s.checked.resources} copies' index rows checked against the indexer` : 'unchecked'}`
      : `all through createMany (${fixed(s.resourcesPerSecond)}/s)`;
    return `${db.label} ${s.resources.toLocaleString('en')} resources in ${fixed(s.seconds)} s: ${how}, then ANALYZE${db.reusedStore ? ' (kept from an earlier run and reused)' : ''}`;
  });
  const postgres = e.databases.find((db) => db.name === 'postgres');
  const verdict = postgres
    ? `Target (issue 21): ≥ ${EXPORT_TARGET.toLocaleString('en')} resources/s streamed on PostgreSQL: ${fixed(postgres.resourcesPerSecond)} resources/s kick-off to last byte, ${fixed(postgres.engine.resourcesPerSecond)}/s for the engine alone: ${postgres.resourcesPerSecond >= EXPORT_TARGET ? 'met' : `not met (${fixed((postgres.resourcesPerSecond / EXPORT_TARGET) * 100)} % of it)`}.`
    : 'PostgreSQL was left out of this run: the target (≥ 50,000 resources/s on PostgreSQL) is not measured.';
  const settings = e.databases.filter((db) => Object.keys(db.serverEnv ?? {}).length).map((db) => `${db.label}: ${Object.entries(db.serverEnv).map(([k, v]) => `\`${k}=${v}\``).join(', ')}`);
  return `## Bulk export

Measured by \`bench/export.mjs\`${e.measuredAt ? ` on ${e.measuredAt.slice(0, 10)}` : ''}${e.commit ? ` (commit ${e.commit})` : ''}: a system-level \`$export\` of every stored resource at
${e.resources.toLocaleString('en')} seeded resources, by the bootstrap backend client (\`system/*.rs\`), the server${e.pinned ? ' on core 1 and the client on core 0' : ''}.
The store (bench/export-seed.mjs): synthetic CCP patients (bench/generate: Patients, Conditions, Goals, CareTeams,
CarePlans, Consents, Tasks, and the shared Organizations and Practitioners) written through the server's own bulk
write path (\`SqlResourceStore.createMany\` with the server's indexer: current row, version, search index and links as
any create writes them; not validated, ruled or audited), then copies of those patients made in SQL with every
per-patient id and MRN rewritten (index rows included, a sample checked against the indexer) up to the size; the
implementation guide's resources the server stores on start are exported too. Seeding: ${seeding.join('; ')}.

Kick-off with \`Prefer: respond-async\`, the status polled every 250 ms until the manifest, then each file downloaded
(streamed, ${e.databases[0]?.download.parallel ?? 1} at a time, ${e.databases[0]?.download.client === 'curl' ? 'by curl into a file' : "by Node's fetch"}) and its lines counted against the manifest's \`count\`. Seconds run from the kick-off to the
last byte of the last file; MB = 10^6 bytes of NDJSON. The engine's time is the job's own (created → completed,
from its row) where readable, else from the manifest's \`transactionTime\` to the manifest's arrival.${settings.length ? ` Server settings: ${settings.join('; ')}.` : ''}${e.serverArgs ? ` The server ran with \`${e.serverArgs}\`.` : ''}

| database | resources exported | MB | seconds | resources/s | MB/s | engine s (resources/s) | downloads s (rate) | server CPU | faults |
|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

The server's RSS (VmRSS, sampled every 250 ms; MB = MiB here), before the kick-off, at 10 %, 50 % and 100 % of the
export's time, the peaks while exporting and while downloading. PGlite runs inside the server, so its RSS
includes the database; PostgreSQL's processes are not in it.

| database | before | 10 % / 50 % / 100 % of the export | export peak | download peak | peak |
|---|---|---|---|---|---|
${memory.join('\n')}

${e.databases.some((db) => db.measuredAt) ? `Each database's run: ${e.databases.map((db) => `${db.label} ${db.measuredAt?.slice(0, 16).replace('T', ' ') ?? '–'} UTC${db.commit ? ` (commit ${db.commit})` : ''}, load average ${fixed(db.cpu.loadBefore, 1)} at the kick-off`).join('; ')}.\n\n` : ''}${verdict}${e.databases.some((db) => db.cpu.loadBefore > 2) ? ' The machine was shared with other work while this ran (load average above 2 on 2 cores), so the absolute figures are low.' : ''}
`;
}

/** The sections a run left out (BENCH_EXTRAS=none) and shows as an earlier run measured them. */
function carriedOver(results) {
  const entries = Object.entries(results.carriedOver ?? {});
  if (!entries.length) return '';
  const names = { validation: 'Validation', statisticsUpkeep: 'Statistics upkeep', writeValidation: 'Write-path validation', notifications: 'Notifications', bulkExport: 'Bulk export', growth: 'Growth' };
  return ` This run left some phases out (\`BENCH_EXTRAS=none\`${results.carriedOver.growth ? ', `BENCH_GROWTH=none`' : ''}): ${entries.map(([section, from]) => `${names[section] ?? section} is from \`${from}\``).join('; ')}, measured on the code of that day.`;
}

/**
 * docs/PERFORMANCE.md: the tables of run `file` (its results), each scenario also against `previous` (the run
 * before it, when there is one), then `analysis`, the hand-kept account of where the time goes and what each
 * change did (bench/analysis.md): profiles are read by people, not generated.
 */
export function performanceMarkdown(rawResults, file, previous, analysis = '') {
  const results = normalized(rawResults);
  const earlier = previous ? normalized(previous.results) : undefined;
  const m = results.machine;
  const labels = results.databases.map((db) => db.label).join(' and ');
  const sections = [...results.databases.map((db) => databaseSection(db, results, earlier)), sideBySide(results.databases), growthSection(results.growth, results), validationSection(results.validation), writeValidationSection(results.writeValidation), statisticsUpkeepSection(results.statisticsUpkeep), notificationsSection(results.notifications), bulkExportSection(results.bulkExport), targetsSection(results.databases, results.growth)].filter(Boolean);

  return `# Performance

Measured by \`npm run bench\` (bench/run.mjs): the 100 Synthea patients imported into ${labels}${results.databases.length > 1 ? ', each in turn' : ''},
the server started on it with access tokens on, and each scenario driven by autocannon with ${results.connections}
connections for ${results.seconds} s. Results of this run: \`${file}\`${results.commit ? ` (commit ${results.commit})` : ''}${previous ? `; "÷ previous run" compares each scenario with \`${previous.file}\`${previous.results.commit ? ` (commit ${previous.results.commit}${previous.results.note ? `: ${previous.results.note}` : ''})` : ''}` : ''}.${carriedOver(results)}

Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.postgres ?? 'PostgreSQL'}${m.pglite ? `, PGlite ${m.pglite}` : ''}, ${m.os}.
${results.pinned ? 'The servers (ours and the HTTP ceiling) ran pinned to core 1 with `taskset`, the load generator to core 0; PostgreSQL\'s processes were not pinned and share both cores.' : 'Nothing was pinned (no taskset, or one core).'}

Ceilings measured in the same run: a bare \`node:http\` server answering a fixed Patient
(**${fixed(results.ceilings.http.requestsPerSecond)} req/s**, p95 under ${Math.max(1, results.ceilings.http.latency.p95)} ms: autocannon counts whole milliseconds), and for each
database a primary-key lookup loop with ${results.connections} concurrent callers (below).

What the scenarios are:

- The first six and the update run with the bootstrap backend client's token (no organization: the hosting
  organization's operator, not held by consent): the SMART check, the audit record of every request, and the
  consent decision's "not held" path.
- **update CarePlan with If-Match**: each connection updates a CarePlan of its own, sending the version the ETag
  of its previous response named, so no request can lose a race (a 412 would count as an error).
- **partner**: a backend client bound to a partner Organization (the server runs with \`HOSTING_ORGANIZATION\`),
  registered for five patients through \`$ccp-register\`, each approved by the host's client through \`$approve\`
  (docs/CONSENT.md). Each request shows the authorized read or search with a bearer token, the consent decision
  inside the search SQL, and the audit write. The last asks for a patient the partner is not registered for, who
  has active plans: 200 with total 0 is the consent decision saying no (checked before the load).

The import ends with \`ANALYZE\` (server/store/analyze.ts; its time is in the import's): autovacuum is off on this
machine's PostgreSQL and PGlite runs none, so without it the planner keeps the statistics of empty tables, and in
a run without it a partner's consent-gated searches served 1 req/s with p95 over 8 s (timeouts on PGlite).

p95 is autocannon's p97.5 (it reports no p95): never flattering. Errors count failed requests and non-2xx answers.

${sections.join('\n')}
${analysis}
${results.growth?.length ? '' : `
## Not measured yet

Search latency at 10k, 100k and 1M resources with a generator of synthetic CCP patients (bench/growth.mjs).
`}`;
}

/** The saved run before `file` (bench/results/ names sort by time), with its name, or undefined for the first. */
function previousRun(file) {
  const folder = path.dirname(file);
  const earlier = readdirSync(folder).filter((name) => name.endsWith('.json') && name < path.basename(file)).sort().at(-1);
  return earlier ? { file: path.join(folder, earlier), results: JSON.parse(readFileSync(path.join(folder, earlier), 'utf8')) } : undefined;
}

/**
 * Writes `root`/docs/PERFORMANCE.md from the run saved in `file` (its `results`): against the run saved before it,
 * with the hand-kept analysis (bench/analysis.md). Paths in the page are relative to `root`.
 */
export function writeReport(root, file, results) {
  const relative = (name) => path.relative(root, path.resolve(name));
  const previous = previousRun(path.resolve(file));
  const analysisFile = path.join(root, 'bench/analysis.md');
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : '';
  writeFileSync(path.join(root, 'docs/PERFORMANCE.md'), performanceMarkdown(results, relative(file), previous && { ...previous, file: relative(previous.file) }, analysis));
}

// `node bench/report.mjs bench/results/<file>.json` writes docs/PERFORMANCE.md again from a saved run.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const file = process.argv[2];
  writeReport('.', file, JSON.parse(readFileSync(file, 'utf8')));
}
