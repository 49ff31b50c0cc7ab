/**
 * `consent_permits(patient, organization, practitioner, levels)`: whether a caller held by consent, acting for
 * `organization` ('Organization/O', or null) as `practitioner` ('Practitioner/U', or null), may see the plan of
 * the patient whose id is `patient`: a registration of the organization at one of `levels`, not outweighed by an
 * active deny naming everyone ('*'), the organization or the person that has no exception (`deny-except` of the same
 * Consent) for the organization or the person; or an override of the person. The rules are the `_access` rows of
 * active Consents (server/consent/access-rows.ts), one lookup through the composite index, each way an aggregate.
 *
 * The search SQL calls it for each patient a row names (server/search/sql/consent.ts). PL/pgSQL keeps the plan of
 * its statement for the session, so a partner's search no longer plans the decision's subqueries on every request
 * (docs/SEARCH.md, "Planning"). STABLE: it reads tables and `now()`, and writes nothing.
 */
export const up = `
CREATE FUNCTION consent_permits(patient text, organization text, practitioner text, levels text[]) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF organization IS NULL AND practitioner IS NULL THEN
    RETURN false;
  END IF;
  RETURN coalesce((
    SELECT (organization IS NOT NULL
            AND coalesce(bool_or(a.c1_system = ANY(levels) AND a.c1_code = patient || '|' || organization), false)
            AND NOT coalesce(bool_or(a.c1_system = 'deny' AND NOT EXISTS (
              SELECT 1 FROM search_composite e
              WHERE e.rid = a.rid AND e.resource_type = 'Consent' AND e.param = '_access' AND e.c1_system = 'deny-except'
                AND e.c1_code = ANY(ARRAY[patient || '|' || organization, patient || '|' || practitioner])
                AND e.c2_date_low <= now() AND e.c2_date_high >= now())), false))
        OR (practitioner IS NOT NULL
            AND coalesce(bool_or(a.c1_system = 'override' AND a.c1_code = patient || '|' || practitioner), false))
    FROM search_composite a
    WHERE a.resource_type = 'Consent' AND a.param = '_access'
      AND a.c1_system = ANY(levels || ARRAY['deny', 'override'])
      AND a.c1_code = ANY(ARRAY[patient || '|*', patient || '|' || organization, patient || '|' || practitioner])
      AND a.c2_date_low <= now() AND a.c2_date_high >= now()), false);
END $$;
`;
