import type { CapabilityStatement, CapabilityStatementRestResource } from 'fhir/r4';
import { UNRESTRICTED } from '../../server/access/caller.js';
import { handleFhirRequest } from '../../server/pipeline/fhir-request.js';
import type { FhirContext } from '../../server/rest/types.js';
import { BACKENDS } from '../support/backends.js';
import { openTestServer, schemaValidator, type TestServer } from '../support/fhir-app.js';

/**
 * The CapabilityStatement's claims of topic-based Subscriptions, against the Backport IG 1.1.0 as published: the
 * URLs are written out here as the IG gives them (its CapabilityStatement backport-subscription-server-r4, its
 * profile, its OperationDefinitions and the capabilitystatement-subscriptiontopic-canonical extension), not taken
 * from the code under test. The statement touches no storage: one database is enough.
 */
const IG = 'http://hl7.org/fhir/uv/subscriptions-backport';
const TOPIC_EXTENSION = `${IG}/StructureDefinition/capabilitystatement-subscriptiontopic-canonical`;
const OUR_TOPICS = ['ccp-changed', 'registration-status', 'directive-changed', 'override-used', 'service-notice', 'organization-joined'].map(
  (name) => `http://ccp-exchange.org/fhir/SubscriptionTopic/${name}`,
);

describe('the CapabilityStatement and the Subscriptions Backport IG', () => {
  let server: TestServer;
  const metadata = async (context: FhirContext): Promise<CapabilityStatement> =>
    (await handleFhirRequest({ method: 'GET', path: 'metadata', query: {}, headers: {}, baseUrl: 'https://ccp.example.org/fhir', caller: UNRESTRICTED }, context))
      .body as CapabilityStatement;
  const entry = (statement: CapabilityStatement, type: string): CapabilityStatementRestResource => statement.rest![0].resource!.find((r) => r.type === type)!;

  beforeAll(async () => {
    server = await openTestServer(BACKENDS[0], { subscriptions: { allowHttpLoopback: false, bindingSecret: 'a'.repeat(32), bindingTokenSeconds: 60, email: false } });
  });
  afterAll(async () => server?.close());

  it('instantiates the IG R4 server CapabilityStatement, and stays a valid R4 CapabilityStatement', async () => {
    const statement = await metadata(server.context);
    expect(statement.instantiates).toEqual([`${IG}/CapabilityStatement/backport-subscription-server-r4`]);
    expect(schemaValidator().validate(statement as never, 'CapabilityStatement')).toEqual([]);
  });

  it('the Subscription entry: the IG profile in supportedProfile, each topic in the IG extension, the IG operations', async () => {
    const subscription = entry(await metadata(server.context), 'Subscription');
    expect(subscription.profile).toBe('http://hl7.org/fhir/StructureDefinition/Subscription');
    expect(subscription.supportedProfile).toEqual([`${IG}/StructureDefinition/backport-subscription`]);
    expect(subscription.extension).toEqual(OUR_TOPICS.map((valueCanonical) => ({ url: TOPIC_EXTENSION, valueCanonical })));
    expect(subscription.operation).toEqual([
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      { name: 'status', definition: `${IG}/OperationDefinition/backport-subscription-status` },
      { name: 'events', definition: `${IG}/OperationDefinition/backport-subscription-events` },
      { name: 'get-ws-binding-token', definition: `${IG}/OperationDefinition/backport-subscription-get-ws-binding-token` },
    ]);
  });

  it('no other type carries the topics or the IG operations', async () => {
    const others = (await metadata(server.context)).rest![0].resource!.filter((r) => r.type !== 'Subscription');
    expect(others.filter((r) => r.extension?.length).map((r) => r.type)).toEqual([]);
    expect(others.filter((r) => r.operation?.some((o) => o.definition?.startsWith(IG))).map((r) => r.type)).toEqual([]);
  });

  it('without the binding secret configured, $get-ws-binding-token is not claimed ($status and $events are)', async () => {
    const { subscriptions: _unused, ...options } = server.context.options;
    const subscription = entry(await metadata({ ...server.context, options }), 'Subscription');
    expect(subscription.operation!.map((o) => o.name)).toEqual(['validate', 'status', 'events']);
  });
});
