import type { Step } from '../step.js';
import { checkWritten } from './consent-gate.js';

/**
 * The interaction: the route's function (server/rest/interactions, or a domain folder's operation). A write under a
 * restricted grant is written and checked in one transaction (`checkWritten`), so a refused write leaves nothing.
 */
export const runInteraction: Step = async (state) => {
  const { route, params, request, context, checkAfterWrite } = state;
  if (!checkAfterWrite.length) return route!.interaction(request, params!, context);
  return context.store.transaction(async (store) => {
    const inner = { ...context, store };
    const response = await route!.interaction(request, params!, inner);
    await checkWritten(params!.type!, response, checkAfterWrite, request, inner);
    return response;
  });
};
