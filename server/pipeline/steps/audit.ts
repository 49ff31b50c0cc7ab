import { audited } from '../../audit/audited.js';
import { auditedInteraction } from '../../audit/interaction.js';
import { FhirError } from '../../fhir/outcome.js';
import type { Step } from '../step.js';

/**
 * Audit: every request but the public ones (the CapabilityStatement) gets exactly one AuditEvent, recorded around
 * the steps after this one, so that their refusals (403, 404) and failures are on record too; a request that
 * matched no route is recorded with its failure, then answered with it (server/audit/audited.ts: a write commits
 * with its event, a read is answered once its event is stored). A Bundle's entries come back through the pipeline
 * while the Bundle's own request is being recorded (`context.auditing`): they add what they touched to its event
 * instead of getting their own.
 */
export const audit: Step = async (state, next) => {
  const { request, context, route } = state;
  const interaction = auditedInteraction(request.method, route?.pattern, request);
  if (context.auditing) {
    const touched = context.auditing;
    if (state.unresolved !== undefined) throw state.unresolved;
    // A Bundle's entry: a bulk export request is asynchronous and its engine writes through its own database handle
    // (on PGlite it would wait for a transaction Bundle's end): it is sent on its own, never as an entry.
    if (interaction.export) throw new FhirError(400, { code: 'not-supported', diagnostics: 'a bulk export request cannot be an entry of a Bundle: send it on its own' });
    const response = await next();
    touched.add(response, interaction.subtype, request.path);
    return response;
  }
  if (route?.access === 'public') return next();
  return audited(
    {
      request,
      interaction,
      params: state.params,
      run: (inner) => {
        state.context = inner;
        return state.unresolved !== undefined ? Promise.reject(state.unresolved) : next();
      },
    },
    context,
  );
};
