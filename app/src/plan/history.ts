import type { Bundle, CarePlan, Provenance } from 'fhir/r4';
import { conceptText, indexBundle, keyOf, referenceLabel } from '../fhir/resources.js';
import { statusLabel } from './ccp.js';

export interface VersionView {
  versionId: string;
  /** When the server stored the version (meta.lastUpdated). */
  at?: string;
  status: string;
  /** Who made the change, from a Provenance naming this version; undefined when none does. */
  by?: string;
  onBehalfOf?: string;
  /** What the Provenance says was done and why (e.g. "revise", "entered in error: Recorded for the wrong patient"). */
  activity?: string;
  reason?: string;
  plan: CarePlan;
}

/**
 * A plan's versions, newest first, from its `_history` Bundle and a searchset of the Provenances that target
 * it (with their agents included). A Provenance counts for the version its target names
 * (`CarePlan/x/_history/2`); one naming the plan without a version counts for the version stored at its
 * `recorded` time. Versions without a Provenance say only when they were stored: the server records the
 * writer in its audit trail, not in the resource.
 */
export function historyView(planId: string, history: Bundle | undefined, provenances: Bundle | undefined): VersionView[] {
  const index = indexBundle([provenances]);
  const versions = (history?.entry ?? [])
    .map((entry) => entry.resource)
    .filter((resource): resource is CarePlan => resource?.resourceType === 'CarePlan' && resource.id === planId && Boolean(resource.meta?.versionId))
    .sort((a, b) => Number(b.meta!.versionId) - Number(a.meta!.versionId) || (b.meta!.lastUpdated ?? '').localeCompare(a.meta!.lastUpdated ?? ''));
  const found = (provenances?.entry ?? []).map((entry) => entry.resource).filter((resource): resource is Provenance => resource?.resourceType === 'Provenance');

  return versions.map((plan): VersionView => {
    const versionId = plan.meta!.versionId!;
    const provenance = found.find((candidate) =>
      candidate.target.some((target) => {
        const literal = target.reference ?? '';
        if (keyOf(literal) !== `CarePlan/${planId}`) return false;
        const version = /\/_history\/([^/]+)$/.exec(literal)?.[1];
        return version ? version === versionId : Boolean(candidate.recorded) && candidate.recorded === plan.meta?.lastUpdated;
      }),
    );
    const agent = provenance?.agent.find((a) => a.type?.coding?.some((c) => c.code === 'author')) ?? provenance?.agent[0];
    const reasons = (provenance?.reason ?? []).map((reason) => [reason.coding?.find((c) => c.display)?.display, reason.text].filter(Boolean).join(': ')).filter(Boolean);
    return {
      versionId,
      at: plan.meta?.lastUpdated,
      status: statusLabel(plan.status)!,
      by: agent ? referenceLabel(agent.who, index) : undefined,
      onBehalfOf: agent?.onBehalfOf ? referenceLabel(agent.onBehalfOf, index) : undefined,
      activity: conceptText(provenance?.activity),
      reason: reasons.length ? reasons.join('; ') : undefined,
      plan,
    };
  });
}
