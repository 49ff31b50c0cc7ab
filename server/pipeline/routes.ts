import { capabilityStatement } from '../capability/capability-statement.js';
import { bundle } from '../rest/interactions/bundle.js';
import { conditionalDelete, conditionalPatch, conditionalUpdate } from '../rest/interactions/conditional-write.js';
import { create } from '../rest/interactions/create.js';
import { deleteResource } from '../rest/interactions/delete.js';
import { history } from '../rest/interactions/history.js';
import { patch } from '../rest/interactions/patch.js';
import { read, vread } from '../rest/interactions/read.js';
import { search } from '../rest/interactions/search.js';
import { update } from '../rest/interactions/update.js';
import { validate } from '../rest/interactions/validate.js';
import { approve } from '../consent/operations/approve.js';
import { definedOn } from '../consent/operations/defined-on.js';
import { ccpDisengage } from '../consent/operations/disengage.js';
import { override } from '../consent/operations/override.js';
import { ccpRegister } from '../consent/operations/register.js';
import { reject } from '../consent/operations/reject.js';
import { sampleOperation, verifyOperation } from '../audit/operations.js';
import { issueBindingToken } from '../delivery/channels/binding-token.js';
import { WEBSOCKET_PATH } from '../delivery/channels/websocket.js';
import { onSubscriptions } from '../notifications/operations/defined-on.js';
import { subscriptionEvents } from '../notifications/operations/events.js';
import { getWsBindingToken } from '../notifications/operations/get-ws-binding-token.js';
import { subscriptionStatus } from '../notifications/operations/status.js';
import { expandOperation } from '../rest/interactions/terminology/expand.js';
import { lookupOperation } from '../rest/interactions/terminology/lookup.js';
import { subsumesOperation } from '../rest/interactions/terminology/subsumes.js';
import { validateCodeOperation } from '../rest/interactions/terminology/validate-code.js';
import { kickOff } from '../export/operations/kick-off.js';
import { exportFile } from '../export/operations/file.js';
import { exportCancel, exportStatus } from '../export/operations/status.js';
import type { Declared, Route } from '../rest/route.js';
import type { FhirContext, FhirOptions, FhirResponse } from '../rest/types.js';

/** The Backport IG's operations, on Subscription only; binding tokens are signed by the websocket channel's rule. */
const statusOperation = onSubscriptions('status', subscriptionStatus);
const eventsOperation = onSubscriptions('events', subscriptionEvents);
const bindingTokenOperation = onSubscriptions('get-ws-binding-token', getWsBindingToken({ issue: issueBindingToken, path: WEBSOCKET_PATH }));

/**
 * Every FHIR interaction the server answers. The pipeline's route step (steps/resolve-route.ts) dispatches from
 * this table and the CapabilityStatement is generated from it, so the two cannot disagree. It is composed here,
 * above the REST layer, because it names the domain folders' operations (consent, audit, terminology).
 */
export const ROUTES: Route[] = [
  // Bulk Data export (server/export/operations), first: `:type` and `[type]/[id]` would otherwise take `$export`,
  // `$export-status/[job]` and `$export-file/[job]/[n]`. Each decides who may (a token, its scopes, the job's owner).
  ...(['GET', 'POST'] as const).flatMap((method): Route[] => {
    const declared = (on: Declared) => (method === 'GET' ? { declared: on } : {});
    return [
      { method, pattern: ['$export'], access: 'interaction', interaction: kickOff('system'), ...declared({ level: 'system-operation', name: 'export' }) },
      { method, pattern: ['Patient', '$export'], access: 'interaction', interaction: kickOff('patient'), ...declared({ level: 'operation', type: 'Patient', name: 'export' }) },
      { method, pattern: ['Group', ':id', '$export'], access: 'interaction', interaction: kickOff('group'), ...declared({ level: 'operation', type: 'Group', name: 'export' }) },
    ];
  }),
  { method: 'GET', pattern: ['$export-status', ':id'], access: 'interaction', interaction: exportStatus },
  { method: 'DELETE', pattern: ['$export-status', ':id'], access: 'interaction', interaction: exportCancel },
  { method: 'GET', pattern: ['$export-file', ':id', ':file'], access: 'interaction', interaction: exportFile },
  { method: 'GET', pattern: ['metadata'], access: 'public', interaction: async (request, _params, context) => metadata(request.baseUrl, context) },
  { method: 'GET', pattern: [], access: 'interaction', interaction: search, declared: { level: 'system', code: 'search-system' } },
  { method: 'POST', pattern: ['_search'], access: 'interaction', interaction: search },
  {
    method: 'POST',
    pattern: [],
    access: 'interaction',
    interaction: bundle,
    declared: [
      { level: 'system', code: 'transaction' },
      { level: 'system', code: 'batch' },
    ],
  },
  { method: 'GET', pattern: ['_history'], access: ['s'], interaction: history, declared: { level: 'system', code: 'history-system' } },
  { method: 'GET', pattern: [':type'], access: 'interaction', interaction: search, declared: { level: 'type', code: 'search-type' } },
  { method: 'POST', pattern: [':type', '_search'], access: 'interaction', interaction: search },
  { method: 'GET', pattern: [':type', '_history'], access: ['s'], interaction: history, declared: { level: 'type', code: 'history-type' } },
  { method: 'POST', pattern: [':type'], access: ['c'], interaction: create, declared: { level: 'type', code: 'create' } },
  // Conditional writes search before they write: they need search too.
  { method: 'PUT', pattern: [':type'], access: ['c', 'u', 's'], interaction: conditionalUpdate },
  { method: 'POST', pattern: [':type', '$validate'], access: { anyOf: ['c', 'u'] }, interaction: validate },
  { method: 'POST', pattern: [':type', ':id', '$validate'], access: { anyOf: ['u', 'd'] }, interaction: validate },
  { method: 'DELETE', pattern: [':type'], access: ['d', 's'], interaction: conditionalDelete },
  { method: 'PATCH', pattern: [':type'], access: ['u', 's'], interaction: conditionalPatch },
  // The audit trail's operations (server/audit), before `[type]/[id]`, whose id they would otherwise be taken for.
  ...(['GET', 'POST'] as const).flatMap((method): Route[] => [
    { method, pattern: [':type', '$verify'], access: ['r'], interaction: verifyOperation, ...(method === 'GET' ? { declared: { level: 'operation', type: 'AuditEvent', name: 'verify' } } : {}) },
    { method, pattern: [':type', '$sample'], access: 'interaction', interaction: sampleOperation, ...(method === 'GET' ? { declared: { level: 'operation', type: 'AuditEvent', name: 'sample' } } : {}) },
  ]),
  // The Subscriptions Backport IG's operations (server/notifications/operations), before `[type]/[id]` and
  // `[type]/[id]/[member]` too. Type level: the interaction searches Subscription as the caller, so it reaches what
  // the caller's searches reach; instance level: a read's access, so the consent gate makes another's a 404.
  ...(['GET', 'POST'] as const).flatMap((method): Route[] => {
    const declared = (name: string) => (method === 'GET' ? { declared: { level: 'operation' as const, type: 'Subscription', name } } : {});
    return [
      { method, pattern: [':type', '$status'], access: 'interaction', interaction: statusOperation, ...declared('status') },
      { method, pattern: [':type', ':id', '$status'], access: ['r'], interaction: statusOperation },
      { method, pattern: [':type', ':id', '$events'], access: ['r'], interaction: eventsOperation, ...declared('events') },
      { method, pattern: [':type', '$get-ws-binding-token'], access: 'interaction', interaction: bindingTokenOperation, ...declared('get-ws-binding-token') },
      { method, pattern: [':type', ':id', '$get-ws-binding-token'], access: ['r'], interaction: bindingTokenOperation },
    ];
  }),
  // Terminology (server/rest/interactions/terminology), before `[type]/[id]` too: reading ValueSets and CodeSystems is all they need.
  ...(['GET', 'POST'] as const).flatMap((method): Route[] => {
    const declared = (...on: Array<[string, string]>) => (method === 'GET' ? { declared: on.map(([type, name]): Declared => ({ level: 'operation', type, name })) } : {});
    return [
      { method, pattern: [':type', '$expand'], access: ['r'], interaction: expandOperation, ...declared(['ValueSet', 'expand']) },
      { method, pattern: [':type', ':id', '$expand'], access: ['r'], interaction: expandOperation },
      { method, pattern: [':type', '$validate-code'], access: ['r'], interaction: validateCodeOperation, ...declared(['ValueSet', 'validate-code'], ['CodeSystem', 'validate-code']) },
      { method, pattern: [':type', ':id', '$validate-code'], access: ['r'], interaction: validateCodeOperation },
      { method, pattern: [':type', '$lookup'], access: ['r'], interaction: lookupOperation, ...declared(['CodeSystem', 'lookup']) },
      { method, pattern: [':type', '$subsumes'], access: ['r'], interaction: subsumesOperation, ...declared(['CodeSystem', 'subsumes']) },
    ];
  }),
  { method: 'GET', pattern: [':type', ':id'], access: ['r'], interaction: read, declared: { level: 'type', code: 'read' } },
  { method: 'PUT', pattern: [':type', ':id'], access: ['u'], interaction: update, declared: { level: 'type', code: 'update' } },
  { method: 'PATCH', pattern: [':type', ':id'], access: ['u'], interaction: patch, declared: { level: 'type', code: 'patch' } },
  { method: 'DELETE', pattern: [':type', ':id'], access: ['d'], interaction: deleteResource, declared: { level: 'type', code: 'delete' } },
  {
    method: 'GET',
    pattern: [':type', ':id', '_history'],
    access: ['r'],
    interaction: history,
    declared: { level: 'type', code: 'history-instance' },
  },
  { method: 'GET', pattern: [':type', ':id', ':member'], access: 'interaction', interaction: search },
  { method: 'GET', pattern: [':type', ':id', '_history', ':vid'], access: ['r'], interaction: vread, declared: { level: 'type', code: 'vread' } },
  // Registration, review, disengagement and override (server/consent/operations): each decides who may.
  ...(
    [
      ['Patient', 'ccp-register', ccpRegister],
      ['Patient', 'ccp-disengage', ccpDisengage],
      ['Patient', 'override', override],
      ['Task', 'approve', approve],
      ['Task', 'reject', reject],
    ] as const
  ).map(([type, name, interaction]): Route => ({
    method: 'POST',
    pattern: [':type', ':id', `$${name}`],
    access: 'interaction',
    interaction: definedOn(type, name, interaction),
    declared: { level: 'operation', type, name },
  })),
];

/** `GET [base]/metadata`: the CapabilityStatement, generated from the table above. */
function metadata(baseUrl: string, { options, registry, bulkExports }: FhirContext): FhirResponse {
  const declared = ROUTES.flatMap((route) => (route.declared ? [route.declared].flat() : [])).filter((d) => offered(d, options, bulkExports !== undefined));
  return { status: 200, body: capabilityStatement({ declared, allowUpdateCreate: options.allowUpdateCreate, allowMultipleDelete: options.allowMultipleDelete, baseUrl, registry, secured: options.secured ?? false }) };
}

/**
 * What a route serves only with some configuration (else the operation answers 501): binding tokens need their
 * secret; bulk export needs the jobs' engine (FhirContext.bulkExports).
 */
function offered(declared: Declared, options: FhirOptions, exporting: boolean): boolean {
  if (declared.level === 'system-operation' || declared.level === 'operation') {
    if (declared.name === 'export') return exporting;
  }
  const needsSecret = declared.level === 'operation' && declared.type === 'Subscription' && declared.name === 'get-ws-binding-token';
  return !needsSecret || options.subscriptions !== undefined;
}
