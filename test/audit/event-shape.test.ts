import type { Consent, Parameters, Task } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { credentialsResetEvent } from '../../server/audit/auth-events.js';
import { auditedInteraction } from '../../server/audit/interaction.js';
import { outcomeOf, restEvent } from '../../server/audit/rest-event.js';
import { Touched } from '../../server/audit/touched.js';
import { R4_REGISTRY } from '../../server/search/registry.js';
import type { FhirRequest } from '../../server/rest/types.js';
import { schemaValidator } from '../support/fhir-app.js';

const request = (method: string, body?: unknown): FhirRequest => ({ method, path: '', query: {}, headers: {}, baseUrl: 'http://x/fhir', caller: UNRESTRICTED, body });

describe('the audit event of an interaction (no database)', () => {
  it('names the interaction by route pattern and method, as restful-interaction codes', () => {
    const cases: [string, string[] | undefined, unknown, { subtype?: string; action: string; writes: string }][] = [
      ['GET', [':type', ':id'], undefined, { subtype: 'read', action: 'R', writes: 'none' }],
      ['GET', [':type', ':id', '_history', ':vid'], undefined, { subtype: 'vread', action: 'R', writes: 'none' }],
      ['PUT', [':type', ':id'], undefined, { subtype: 'update', action: 'U', writes: 'transaction' }],
      ['PATCH', [':type'], undefined, { subtype: 'patch', action: 'U', writes: 'transaction' }],
      ['DELETE', [':type'], undefined, { subtype: 'delete', action: 'D', writes: 'transaction' }],
      ['POST', [':type'], undefined, { subtype: 'create', action: 'C', writes: 'transaction' }],
      ['GET', [':type'], undefined, { subtype: 'search-type', action: 'E', writes: 'none' }],
      ['POST', [':type', '_search'], undefined, { subtype: 'search-type', action: 'E', writes: 'none' }],
      ['GET', [], undefined, { subtype: 'search-system', action: 'E', writes: 'none' }],
      ['POST', ['_search'], undefined, { subtype: 'search-system', action: 'E', writes: 'none' }],
      ['GET', [':type', ':id', ':member'], undefined, { subtype: 'search-type', action: 'E', writes: 'none' }],
      ['GET', ['_history'], undefined, { subtype: 'history-system', action: 'R', writes: 'none' }],
      ['GET', [':type', '_history'], undefined, { subtype: 'history-type', action: 'R', writes: 'none' }],
      ['GET', [':type', ':id', '_history'], undefined, { subtype: 'history-instance', action: 'R', writes: 'none' }],
      ['POST', [], { resourceType: 'Bundle', type: 'transaction' }, { subtype: 'transaction', action: 'E', writes: 'transaction' }],
      ['POST', [], { resourceType: 'Bundle', type: 'batch' }, { subtype: 'batch', action: 'E', writes: 'transaction' }],
      ['POST', ['Patient', ':id', '$override'], undefined, { subtype: 'operation', action: 'E', writes: 'transaction' }],
      ['POST', [':type', '$validate'], undefined, { subtype: 'operation', action: 'E', writes: 'none' }],
      ['GET', [':type', '$verify'], undefined, { subtype: 'operation', action: 'E', writes: 'none' }],
      ['POST', undefined, undefined, { action: 'C', writes: 'none' }],
    ];
    for (const [method, pattern, body, expected] of cases) {
      expect({ method, pattern, ...auditedInteraction(method, pattern, request(method, body)) }).toEqual({ method, pattern, ...expected });
    }
  });

  it('outcome follows the HTTP status: 0 for success, 4 for 4xx, 8 for 5xx', () => {
    expect([200, 201, 304, 400, 404, 412, 499, 500, 503].map(outcomeOf)).toEqual(['0', '0', '0', '4', '4', '4', '4', '8', '8']);
  });

  it("an operation's output resources are its entities, and an override Consent's reason is the purpose of use", () => {
    const reason = { system: 'http://ccp-exchange.org/fhir/CodeSystem/override-reason', code: 'risk-of-harm' };
    const consent: Consent = {
      resourceType: 'Consent', id: 'c1', meta: { versionId: '1' }, status: 'active', scope: { text: 'privacy' }, category: [{ text: 'INFA' }],
      patient: { reference: 'Patient/p7' }, provision: { type: 'permit', purpose: [reason] },
    };
    const task: Task = { resourceType: 'Task', id: 't1', meta: { versionId: '2' }, status: 'requested', intent: 'order', for: { reference: 'Patient/p8' } };
    const output: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'consent', resource: consent }, { name: 'task', resource: task }] };
    const touched = new Touched(R4_REGISTRY);
    touched.add({ status: 201, body: output }, 'operation', 'Patient/p7/$override');
    const event = restEvent({ interaction: { subtype: 'operation', action: 'E', writes: 'transaction' }, caller: UNRESTRICTED, recorded: new Date(0), status: 201, touched });
    expect(event.purposeOfEvent).toEqual([{ coding: [reason] }]);
    expect(event.entity!.map((entity) => [entity.role!.code, entity.what!.reference])).toEqual([
      ['1', 'Patient/p7'],
      ['1', 'Patient/p8'],
      ['4', 'Consent/c1/_history/1'],
      ['4', 'Task/t1/_history/2'],
    ]);
    expect(event.recorded).toBe('1970-01-01T00:00:00.000Z');
  });

  it('a credentials reset by a command (npm run reset-admin) names the command, and the account or client by id only; R4-valid', () => {
    const by = { command: 'CCP Exchange reset-admin command, run by system user ops on host1' };
    const account = credentialsResetEvent({ userId: 'u-1' }, by, new Date(0));
    const client = credentialsResetEvent({ clientId: 'local-admin' }, by, new Date(0));
    for (const event of [account, client]) {
      expect(schemaValidator().validate(event as never, 'AuditEvent')).toEqual([]);
      expect(event).toMatchObject({ type: { code: '110113' }, subtype: [{ code: '110137' }], action: 'U', outcome: '0', recorded: '1970-01-01T00:00:00.000Z' });
      expect(event.agent).toEqual([expect.objectContaining({ who: { display: by.command }, requestor: true })]);
    }
    expect(account.entity!.map((entity) => [entity.what!.identifier!.system, entity.what!.identifier!.value, entity.description])).toEqual([['http://ccp-exchange.org/fhir/sid/user-id', 'u-1', 'password reset']]);
    expect(client.entity!.map((entity) => [entity.what!.identifier!.system, entity.what!.identifier!.value, entity.description])).toEqual([['http://ccp-exchange.org/fhir/sid/client-id', 'local-admin', 'client secret reset']]);
  });
});
