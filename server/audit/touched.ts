import type { Bundle, Coding, Consent, Parameters, Resource } from 'fhir/r4';
import type { ExportDisclosure } from '../bulk/disclosure.js';
import type { FhirResponse } from '../rest/types.js';
import type { SearchParameterRegistry } from '../search/registry.js';
import type { ResourceStore } from '../store/resource-store.js';
import { patientsOf } from './patients.js';

const VERSIONED = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})\/_history\/([A-Za-z0-9\-.]{1,64})$/;
const ETAG = /^W\/"([^"]+)"$/;

/**
 * What a request touched, gathered from what it answered: the resources read or written (`Type/id/_history/v`)
 * and the patients they are about. Searches and histories add their patients only, not every match. A Bundle's
 * entries are gathered one by one as they run (the pipeline, server/pipeline/fhir-request.ts), so `Prefer: return=minimal` on the
 * Bundle hides nothing from the record.
 */
export class Touched {
  readonly resources = new Set<string>();
  readonly patients = new Set<string>();
  /** Purposes of use the request stated (AuditEvent.purposeOfEvent). */
  readonly purposes: Coding[] = [];
  /** What a bulk export request disclosed, as its operation said (server/export/operations). */
  export?: ExportDisclosure;
  /** Versions answered without a body (a delete, `return=minimal`): their patients are looked up before recording. */
  private readonly unread: { type: string; id: string; version: number }[] = [];

  constructor(private readonly registry: SearchParameterRegistry) {}

  /** A response of `subtype` to the request for `path` (below the base). */
  add(response: FhirResponse, subtype: string | undefined, path: string): void {
    const body = response.body;
    if (body?.resourceType === 'Bundle' && /^(searchset|history|transaction-response|batch-response)$/.test((body as Bundle).type)) {
      // A Bundle's own entries were gathered as they ran; a search's or history's matches count by patient.
      if (subtype === 'transaction' || subtype === 'batch') return;
      for (const entry of (body as Bundle).entry ?? []) if (entry.resource) this.addPatients(entry.resource);
      return;
    }
    if (body?.resourceType === 'Parameters') {
      // An operation's output: the resources it wrote or read ($override's Consent and notice, a registration's Task).
      for (const parameter of (body as Parameters).parameter ?? []) if (parameter.resource) this.addResource(parameter.resource);
      return;
    }
    if (body && body.resourceType !== 'OperationOutcome' && body.id) return this.addResource(body);
    const written = VERSIONED.exec(response.headers?.Location ?? '');
    if (written) return this.addUnread(written[1], written[2], Number(written[3]), false);
    const version = ETAG.exec(response.headers?.ETag ?? '');
    const [type, id] = path.split('/');
    if (version && subtype === 'delete' && id) this.addUnread(type, id, Number(version[1]), true);
  }

  exported(disclosure: ExportDisclosure): void {
    this.export = disclosure;
  }

  private addResource(resource: Resource): void {
    if (resource.id) this.resources.add(`${resource.resourceType}/${resource.id}${resource.meta?.versionId ? `/_history/${resource.meta.versionId}` : ''}`);
    this.addPatients(resource);
    // A Consent that states why access is given (a break-the-glass override's reason) is the event's purpose of use:
    // once, though an operation reports the Consent it wrote and answers it too.
    if (resource.resourceType !== 'Consent') return;
    for (const purpose of (resource as Consent).provision?.purpose ?? []) {
      if (!this.purposes.some((known) => known.system === purpose.system && known.code === purpose.code)) this.purposes.push(purpose);
    }
  }

  private addUnread(type: string, id: string, version: number, deleted: boolean): void {
    this.resources.add(`${type}/${id}/_history/${version}`);
    // A delete's patients are those of the version it ended.
    this.unread.push({ type, id, version: deleted ? version - 1 : version });
  }

  addPatients(resource: Resource): void {
    for (const id of patientsOf(resource, this.registry)) this.patients.add(id);
  }

  /** Reads the versions answered without a body, for their patients (inside the writing transaction, if any). */
  async complete(store: ResourceStore): Promise<void> {
    for (const { type, id, version } of this.unread.splice(0)) {
      if (!Number.isSafeInteger(version) || version < 1) continue;
      const found = await store.vread(type, id, String(version));
      if (found.kind === 'found') this.addPatients(found.resource);
    }
  }
}
