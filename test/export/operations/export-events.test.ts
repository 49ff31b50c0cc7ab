import { clientCaller } from '../../../server/access/callers.js';
import { exportEvent } from '../../../server/audit/export-events.js';
import { auditedInteraction } from '../../../server/audit/interaction.js';
import type { FhirRequest } from '../../../server/rest/types.js';
import { ANONYMOUS } from '../../../server/access/caller.js';

const partner = clientCaller({ clientId: 'partner-emr', scope: 'system/*.rs', organizationId: 'org-partner' });
const request = { method: 'GET', path: '', query: {}, headers: {}, baseUrl: 'https://ccp.test/fhir', caller: ANONYMOUS } as FhirRequest;
const input = (method: string, pattern: string[], status = 200) => ({
  interaction: auditedInteraction(method, pattern, request),
  caller: partner,
  recorded: new Date('2026-12-07T20:00:00Z'),
  status,
});

describe('bulk export AuditEvents (IHE BALP export)', () => {
  it('each route is its step: kick-off E, status R, download R, cancel D; none runs in a write transaction', () => {
    expect(auditedInteraction('GET', ['$export'], request)).toEqual({ subtype: 'operation', action: 'E', writes: 'none', export: 'kick-off' });
    expect(auditedInteraction('POST', ['Group', ':id', '$export'], request)).toMatchObject({ action: 'E', export: 'kick-off' });
    expect(auditedInteraction('GET', ['$export-status', ':id'], request)).toMatchObject({ action: 'R', export: 'status' });
    expect(auditedInteraction('DELETE', ['$export-status', ':id'], request)).toMatchObject({ action: 'D', writes: 'none', export: 'cancel' });
    expect(auditedInteraction('GET', ['$export-file', ':id', ':file'], request)).toMatchObject({ action: 'R', export: 'download' });
    expect(auditedInteraction('GET', [':type', ':id'], request).export).toBeUndefined();
  });

  it('a download of a restricted export: DICOM Export, disclose, the file, and every patient the export contained', () => {
    const event = exportEvent(input('GET', ['$export-file', ':id', ':file']), 'download', {
      step: 'download',
      job: 'job-1',
      types: ['CarePlan'],
      file: { number: 3, type: 'CarePlan', count: 12 },
      patients: [{ reference: 'Patient/p1' }, { reference: 'Patient/p2' }],
    }, 'job-1');
    expect(event.type).toEqual({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' });
    expect(event.subtype?.map((c) => c.code)).toEqual(['operation', 'download', 'disclose']);
    expect(event.action).toBe('R');
    expect(event.outcome).toBe('0');
    const patients = event.entity?.filter((e) => e.role?.code === '1').map((e) => e.what?.reference);
    expect(patients).toEqual(['Patient/p1', 'Patient/p2']);
    expect(event.entity?.find((e) => e.role?.code === '3')).toMatchObject({
      what: { identifier: { value: 'job-1/3' } },
      detail: [
        { type: 'resource-type', valueString: 'CarePlan' },
        { type: 'count', valueString: '12' },
      ],
    });
    // The partner's organization and app, this server as the source, the partner's client as the destination.
    expect(event.agent.map((a) => a.type?.coding?.[0].code)).toEqual(['RESP', '110150', '110153', '110152']);
    expect(event.agent.find((a) => a.type?.coding?.[0].code === 'RESP')?.who?.reference).toBe('Organization/org-partner');
  });

  it('a refused request names its job by the path and discloses nothing', () => {
    const event = exportEvent({ ...input('GET', ['$export-file', ':id', ':file'], 403), failure: 'forbidden' }, 'download', undefined, 'job-9');
    expect(event.outcome).toBe('4');
    expect(event.outcomeDesc).toBe('403 forbidden');
    expect(event.subtype?.map((c) => c.code)).toEqual(['operation', 'download']);
    expect(event.entity).toEqual([{ what: { identifier: { system: 'http://ccp-exchange.org/fhir/sid/bulk-export-job', value: 'job-9' } }, type: expect.anything(), role: expect.objectContaining({ code: '20' }) }]);
  });

  it('a kick-off records its request base64-encoded (as BALP records a query), and a completing poll discloses', () => {
    const kickOff = exportEvent(input('GET', ['$export'], 202), 'kick-off', { step: 'kick-off', job: 'job-2', request: 'https://ccp.test/fhir/$export?_type=Patient', types: ['Patient'] }, undefined);
    const query = kickOff.entity?.find((e) => e.role?.code === '24')?.query;
    expect(Buffer.from(query!, 'base64').toString('utf8')).toBe('https://ccp.test/fhir/$export?_type=Patient');
    expect(kickOff.subtype?.map((c) => c.code)).toEqual(['operation', 'kick-off']);
    const poll = exportEvent(input('GET', ['$export-status', ':id']), 'status', { step: 'status', job: 'job-2', complete: true, patients: [{ reference: 'Patient/p1' }] }, 'job-2');
    expect(poll.subtype?.map((c) => c.code)).toEqual(['operation', 'status', 'disclose']);
    expect(poll.entity?.filter((e) => e.role?.code === '1').map((e) => e.what?.reference)).toEqual(['Patient/p1']);
  });
});
