// The ids the scenarios use, taken from the loaded data with plain SQL, so the same code serves PostgreSQL
// (through pg) and PGlite (in process, before the server opens it). `query(sql)` resolves with the rows.

/**
 * A patient, a patient identifier, and six patients who each have an active CarePlan: the partner registers for
 * the first five (the first is the one its scenarios ask about, with one of its active plans' id) and not for the
 * last.
 */
export async function sampleIds(query) {
  const one = async (sql) => (await query(sql))[0];
  const count = (await one("SELECT count(*)::int AS n FROM resource WHERE resource_type <> 'AuditEvent'")).n;
  // The 51st patient loaded (the last one, in smaller data sets).
  const patient = (await query("SELECT id FROM resource WHERE resource_type = 'Patient' AND NOT deleted ORDER BY rid LIMIT 51")).at(-1).id;
  const identifier = await one(`SELECT system, code FROM search_token WHERE resource_type = 'Patient' AND param = 'identifier' AND system IS NOT NULL AND code IS NOT NULL ORDER BY rid LIMIT 1`);
  const withActivePlans = await query(`SELECT i.target_id AS patient, min(r.id) AS plan
    FROM search_reference i
    JOIN search_token s ON s.rid = i.rid AND s.param = 'status' AND s.code = 'active'
    JOIN resource r ON r.rid = i.rid AND NOT r.deleted
    WHERE i.resource_type = 'CarePlan' AND i.param = 'patient'
    GROUP BY i.target_id ORDER BY i.target_id LIMIT 6`);
  if (withActivePlans.length < 6) throw new Error('the data has fewer than six patients with an active CarePlan');
  const registered = withActivePlans.slice(0, 5);
  return {
    count,
    patient,
    identifier: `${identifier.system}|${identifier.code}`,
    carePlanPatient: registered[0].patient,
    carePlan: registered[0].plan,
    registeredPatients: registered.map((row) => row.patient),
    unregisteredPatient: withActivePlans[5].patient,
  };
}
