import { mailtoAddress } from '../../server/delivery/channels/email.js';
import type { Extension, Subscription } from 'fhir/r4';
import type { FhirError } from '../../server/fhir/outcome.js';
import type { SubscriptionOwner } from '../../server/subscriptions/model.js';
import { checkSubscription, statusToStore, type SubscriptionCheckOptions } from '../../server/subscriptions/subscription-request.js';
import { thrown } from '../support/thrown.js';

/** The Backport IG's extension URLs, written out as the IG publishes them (not taken from the code under test). */
const IG = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const FILTER = `${IG}/backport-filter-criteria`;
const CONTENT = `${IG}/backport-payload-content`;
const HEARTBEAT = `${IG}/backport-heartbeat-period`;
const TIMEOUT = `${IG}/backport-timeout`;
const MAX_COUNT = `${IG}/backport-max-count`;
const CHANNEL_TYPE = `${IG}/backport-channel-type`;

const TOPICS = 'http://ccp-exchange.org/fhir/SubscriptionTopic';
const CCP_CHANGED = `${TOPICS}/ccp-changed`;

const FILTER_AT = (index: number) => `Subscription.criteria.extension('${FILTER}')[${index}]`;
const CONTENT_AT = `Subscription.channel.payload.extension('${CONTENT}')`;
const SETTING_AT = (url: string) => `Subscription.channel.extension('${url}')`;

const owner: SubscriptionOwner = { clientId: 'emr', scopes: ['system/CarePlan.rs'], organization: 'home-care' };
const NOW = new Date('2026-12-07T14:00:00Z');
const options = (more: Partial<SubscriptionCheckOptions> = {}): SubscriptionCheckOptions => ({ id: 's1', owner, interaction: 'create', now: NOW, ...more });

/** The IG's "Backported Subscription: Admission" example, made about our ccp-changed topic. */
function admission(): Subscription {
  return {
    resourceType: 'Subscription',
    status: 'requested',
    end: '2030-12-31T12:00:00Z',
    reason: 'Plans of the patients we care for',
    criteria: CCP_CHANGED,
    _criteria: { extension: [{ url: FILTER, valueString: 'CarePlan?patient=Patient/123' }] },
    channel: {
      type: 'rest-hook',
      endpoint: 'https://receiver.example.org/Endpoints/d7dcc004',
      header: ['Authorization: Bearer secret-token-value'],
      extension: [
        { url: HEARTBEAT, valueUnsignedInt: 86400 },
        { url: TIMEOUT, valueUnsignedInt: 60 },
        { url: MAX_COUNT, valuePositiveInt: 20 },
      ],
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: CONTENT, valueCode: 'id-only' }] },
    },
  };
}

/** The example with a change; `change` edits a deep copy. */
function changed(change: (subscription: Subscription) => void): Subscription {
  const subscription = structuredClone(admission());
  change(subscription);
  return subscription;
}

const setting = (subscription: Subscription, url: string, extension: Omit<Extension, 'url'> | undefined) => {
  const others = (subscription.channel.extension ?? []).filter((e) => e.url !== url);
  subscription.channel.extension = extension ? [...others, { url, ...extension }] : others;
};

const refusal = (subscription: Subscription, more: Partial<SubscriptionCheckOptions> = {}): FhirError =>
  thrown(() => checkSubscription(subscription, options(more)));

/** `status expression` of the refusal, when it names exactly one problem. */
function refusedAs(subscription: Subscription, more: Partial<SubscriptionCheckOptions> = {}): string {
  const error = refusal(subscription, more);
  expect(error.issues).toHaveLength(1);
  return `${error.status} ${error.issues[0].expression?.join()}`;
}

describe('a Subscription the server accepts', () => {
  it('is read into the spec the outbox and channels use', () => {
    expect(checkSubscription(admission(), options())).toEqual({
      id: 's1',
      topic: CCP_CHANGED,
      filters: [{ name: 'patient', value: '123' }],
      channel: 'rest-hook',
      endpoint: 'https://receiver.example.org/Endpoints/d7dcc004',
      contentType: 'application/fhir+json',
      headers: ['Authorization: Bearer secret-token-value'],
      payload: 'id-only',
      heartbeatSeconds: 86400,
      timeoutSeconds: 60,
      maxCount: 20,
      end: '2030-12-31T12:00:00.000Z',
      owner,
    });
  });

  it('without the optional settings: no heartbeats, a 10 s timeout, 20 events a notification; no filter, no end', () => {
    const spec = checkSubscription(
      changed((s) => {
        delete s.end;
        delete s._criteria;
        delete s.channel.extension;
        delete s.channel.header;
      }),
      options(),
    );
    expect(spec.heartbeatSeconds).toBeUndefined();
    expect(spec.timeoutSeconds).toBe(10);
    expect(spec.maxCount).toBe(20);
    expect(spec.filters).toEqual([]);
    expect(spec.headers).toEqual([]);
    expect(spec.end).toBeUndefined();
    expect('heartbeatSeconds' in spec || 'end' in spec).toBe(false);
  });

  it('asks at most 100 events a notification, however many it asks for (the IG: a ceiling the server keeps)', () => {
    expect(checkSubscription(changed((s) => setting(s, MAX_COUNT, { valuePositiveInt: 5000 })), options()).maxCount).toBe(100);
    expect(checkSubscription(changed((s) => setting(s, MAX_COUNT, { valuePositiveInt: 1 })), options()).maxCount).toBe(1);
  });

  it('takes the bounds of heartbeat-period (60 s to a day) and timeout (1 s to 60 s)', () => {
    const spec = checkSubscription(
      changed((s) => {
        setting(s, HEARTBEAT, { valueUnsignedInt: 60 });
        setting(s, TIMEOUT, { valueUnsignedInt: 1 });
      }),
      options(),
    );
    expect([spec.heartbeatSeconds, spec.timeoutSeconds]).toEqual([60, 1]);
  });

  it('reads filters as `name=value` or `Type?name=value`, the value as Patient/[id] or [id]', () => {
    const filters = (valueString: string) =>
      checkSubscription(changed((s) => (s._criteria = { extension: [{ url: FILTER, valueString }] })), options()).filters;
    expect(filters('patient=123')).toEqual([{ name: 'patient', value: '123' }]);
    expect(filters('patient=Patient/123')).toEqual([{ name: 'patient', value: '123' }]);
    expect(filters('patient=Patient%2F123')).toEqual([{ name: 'patient', value: '123' }]);
    expect(filters(' CarePlan?patient=p-1.2 ')).toEqual([{ name: 'patient', value: 'p-1.2' }]);
  });

  it('takes a patient and an organization filter together where the topic has both', () => {
    const spec = checkSubscription(
      changed((s) => {
        s.criteria = `${TOPICS}/registration-status`;
        s._criteria = {
          extension: [
            { url: FILTER, valueString: 'Task?patient=Patient/p1' },
            { url: FILTER, valueString: 'organization=Organization/home-care' },
            { url: 'http://example.org/other-extension', valueString: 'ignored' },
          ],
        };
      }),
      options(),
    );
    expect(spec.filters).toEqual([
      { name: 'patient', value: 'p1' },
      { name: 'organization', value: 'home-care' },
    ]);
  });

  it('a date as end means all of that day (or month, or year): notifications stop after its last moment', () => {
    expect(checkSubscription(changed((s) => (s.end = '2026-12-07')), options()).end).toBe('2026-12-07T23:59:59.999Z');
    expect(checkSubscription(changed((s) => (s.end = '2026')), options()).end).toBe('2026-12-31T23:59:59.999Z');
    expect(checkSubscription(changed((s) => (s.end = '2026-12-07T16:00:00+01:00')), options()).end).toBe('2026-12-07T15:00:00.000Z');
  });

  it('a websocket subscription has no endpoint, and its messages are FHIR JSON', () => {
    const spec = checkSubscription(
      changed((s) => {
        s.channel.type = 'websocket';
        delete s.channel.endpoint;
        delete s.channel.header;
        s.channel.payload = 'application/json';
      }),
      options(),
    );
    expect(spec).toMatchObject({ channel: 'websocket', contentType: 'application/json', headers: [] });
    expect(spec.endpoint).toBeUndefined();
  });

  it('an email subscription goes to one mailto: address, a plain-text body with the Bundle attached or not', () => {
    const email = (endpoint: string, payload: string) =>
      checkSubscription(
        changed((s) => {
          s.channel.type = 'email';
          s.channel.endpoint = endpoint;
          s.channel.payload = payload;
          delete s.channel.header;
        }),
        options(),
      );
    expect(email('mailto:care-team@clinic.example.org', 'text/plain;attach=application/fhir+json')).toMatchObject({
      channel: 'email',
      endpoint: 'mailto:care-team@clinic.example.org',
      contentType: 'text/plain;attach=application/fhir+json',
    });
    expect(email('MAILTO:Care.Team%40Clinic.example.org', 'text/plain; charset=utf-8')).toMatchObject({
      endpoint: 'mailto:Care.Team@Clinic.example.org',
      contentType: 'text/plain',
    });
    // An address with `%` or `?` in it stays a URI the email channel reads back as the same address.
    const unusual = email('mailto:desk%25night%3Fshift@clinic.example.org', 'text/plain');
    expect(unusual.endpoint).toBe('mailto:desk%25night%3Fshift@clinic.example.org');
    expect(mailtoAddress(unusual.endpoint)).toBe('desk%night?shift@clinic.example.org');
  });

  it('keeps the URL as the URL parser reads it, so that what was checked is what is used', () => {
    const spec = checkSubscription(changed((s) => (s.channel.endpoint = 'HTTPS://Receiver.Example.org:8443/hook?x=1')), options());
    expect(spec.endpoint).toBe('https://receiver.example.org:8443/hook?x=1');
  });

  it('takes a MIME type with charset utf-8 or fhirVersion 4.0', () => {
    const contentType = (payload: string) => checkSubscription(changed((s) => (s.channel.payload = payload)), options()).contentType;
    expect(contentType('application/fhir+json; charset=UTF-8')).toBe('application/fhir+json');
    expect(contentType('application/fhir+json;fhirVersion=4.0')).toBe('application/fhir+json; fhirVersion=4.0');
    expect(contentType('Application/JSON')).toBe('application/json');
  });

  it('takes a backport-channel-type that only restates the R4 code in the R5 code system', () => {
    const spec = checkSubscription(
      changed(
        (s) =>
          (s.channel._type = {
            extension: [{ url: CHANNEL_TYPE, valueCoding: { system: 'http://terminology.hl7.org/CodeSystem/subscription-channel-type', code: 'rest-hook' } }],
          }),
      ),
      options(),
    );
    expect(spec.channel).toBe('rest-hook');
  });

  it('trims the spaces around a header value', () => {
    const spec = checkSubscription(changed((s) => (s.channel.header = ['X-Api-Key:   k-1  ', 'Authorization:Bearer t'])), options());
    expect(spec.headers).toEqual(['X-Api-Key: k-1', 'Authorization: Bearer t']);
  });

  it('with the loopback allowance, takes http: to 127.0.0.1, ::1 and localhost (local tests)', () => {
    for (const endpoint of ['http://127.0.0.1:8080/hook', 'http://[::1]:9000/', 'http://localhost:9000/x', 'https://127.0.0.2/']) {
      expect(checkSubscription(changed((s) => (s.channel.endpoint = endpoint)), options({ allowHttpLoopback: true })).endpoint).toBe(new URL(endpoint).href);
    }
  });
});

describe('status', () => {
  it('on create is requested, also when absent (R4 has it 1..1; the server sets it)', () => {
    const absent = changed((s) => delete (s as Partial<Subscription>).status);
    expect(() => checkSubscription(absent, options())).not.toThrow();
    expect(statusToStore(absent, { interaction: 'create' })).toBe('requested');
    expect(statusToStore(admission(), { interaction: 'create' })).toBe('requested');
  });

  it.each(['active', 'error', 'off'] as const)('%s on create is refused (422)', (status) => {
    const error = refusal(changed((s) => (s.status = status)));
    expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'business-rule', ['Subscription.status']]);
  });

  it('that is not an R4 code is malformed (400)', () => {
    const error = refusal(changed((s) => ((s as { status: string }).status = 'entered-in-error')));
    expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([400, 'code-invalid', ['Subscription.status']]);
  });

  it('on update may ask for requested (to reactivate) or off, or send back the status it read', () => {
    const update = (status: Subscription['status'], currentStatus: Subscription['status']) => {
      const subscription = changed((s) => (s.status = status));
      checkSubscription(subscription, options({ interaction: 'update', currentStatus }));
      return statusToStore(subscription, { interaction: 'update', currentStatus });
    };
    expect(update('off', 'active')).toBe('off');
    expect(update('requested', 'error')).toBe('requested');
    expect(update('active', 'active')).toBe('active');
    expect(update('error', 'error')).toBe('error');
    expect(statusToStore(changed((s) => delete (s as Partial<Subscription>).status), { interaction: 'update', currentStatus: 'active' })).toBe('active');
  });

  it('on update may not make itself active or error', () => {
    expect(refusedAs(changed((s) => (s.status = 'active')), { interaction: 'update', currentStatus: 'error' })).toBe('422 Subscription.status');
    expect(refusedAs(changed((s) => (s.status = 'active')), { interaction: 'update', currentStatus: 'requested' })).toBe('422 Subscription.status');
    expect(refusedAs(changed((s) => (s.status = 'error')), { interaction: 'update', currentStatus: 'active' })).toBe('422 Subscription.status');
  });
});

describe('refusals, each with its status and the FHIRPath of its element', () => {
  it('a body that is not a Subscription', () => {
    const error = thrown(() => checkSubscription({ resourceType: 'Patient' } as unknown as Subscription, options()));
    expect([error.status, error.issues[0].expression]).toEqual([400, ['Subscription']]);
  });

  it('end in the past (422), or not a date (400)', () => {
    expect(refusedAs(changed((s) => (s.end = '2026-12-07T13:59:59Z')))).toBe('422 Subscription.end');
    expect(refusedAs(changed((s) => (s.end = '2026-12-06')))).toBe('422 Subscription.end');
    expect(refusedAs(changed((s) => (s.end = 'next week')))).toBe('400 Subscription.end');
  });

  describe('criteria', () => {
    it('missing (400)', () => {
      expect(refusedAs(changed((s) => delete (s as Partial<Subscription>).criteria))).toBe('400 Subscription.criteria');
      expect(refusedAs(changed((s) => (s.criteria = '')))).toBe('400 Subscription.criteria');
    });

    it('not one of our topics (422 not-supported), naming the topics there are', () => {
      for (const criteria of [`${TOPICS}/admission`, `${CCP_CHANGED}|1.0`, 'http://hl7.org/SubscriptionTopic/admission']) {
        const error = refusal(changed((s) => (s.criteria = criteria)));
        expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'not-supported', ['Subscription.criteria']]);
        expect(error.issues[0].diagnostics).toContain(`${TOPICS}/organization-joined`);
      }
    });

    it("R4's own query criteria (422), saying only topic-based Subscriptions are offered", () => {
      const error = refusal(changed((s) => (s.criteria = 'CarePlan?patient=Patient/123')));
      expect([error.status, error.issues[0].expression]).toEqual([422, ['Subscription.criteria']]);
      expect(error.issues[0].diagnostics).toMatch(/query criteria.*topic-based/);
    });
  });

  describe('filter-criteria', () => {
    const filter = (...valueStrings: string[]) => (s: Subscription) => (s._criteria = { extension: valueStrings.map((valueString) => ({ url: FILTER, valueString })) });

    it('not a valueString (400)', () => {
      expect(refusedAs(changed((s) => (s._criteria = { extension: [{ url: FILTER, valueInteger: 123 }] })))).toBe(`400 ${FILTER_AT(0)}`);
    });

    it.each([['patient'], ['=123'], [''], ['patient=Organization/1'], ['patient=not an id'], ['patient=%E0%A4%A']])('%j is malformed (400)', (value) => {
      expect(refusedAs(changed(filter(value)))).toBe(`400 ${FILTER_AT(0)}`);
    });

    it.each([
      ['patient=p1&patient=p2', 'holds one filter'],
      ['patient:missing=true', 'modifiers'],
      ['organization=home-care', 'takes patient'],
      ['Task?patient=p1', 'applies to CarePlan, not Task'],
      ['subject=Patient/1', 'cannot filter by subject'],
    ])('%j on ccp-changed is refused (422): %s', (value, why) => {
      const error = refusal(changed(filter(value)));
      expect([error.status, error.issues[0].expression]).toEqual([422, [FILTER_AT(0)]]);
      expect(error.issues[0].diagnostics).toContain(why);
    });

    it('any filter on a topic that takes none (422)', () => {
      const error = refusal(
        changed((s) => {
          s.criteria = `${TOPICS}/service-notice`;
          filter('patient=p1')(s);
        }),
      );
      expect([error.status, error.issues[0].expression]).toEqual([422, [FILTER_AT(0)]]);
      expect(error.issues[0].diagnostics).toContain('takes no filters');
    });

    it('a second filter of the same name (422: with AND they could never both match), named by its index', () => {
      expect(refusedAs(changed(filter('patient=p1', 'patient=p2')))).toBe(`422 ${FILTER_AT(1)}`);
    });

    it('each bad one, at its own index', () => {
      const error = refusal(changed(filter('patient=p1', 'organization=o', 'patient')));
      expect(error.status).toBe(400);
      expect(error.issues.map((issue) => issue.expression?.[0])).toEqual([FILTER_AT(1), FILTER_AT(2)]);
    });
  });

  describe('channel', () => {
    it('missing, or without a type (400)', () => {
      expect(refusedAs(changed((s) => delete (s as Partial<Subscription>).channel))).toBe('400 Subscription.channel');
      expect(refusedAs(changed((s) => delete (s.channel as Partial<Subscription['channel']>).type))).toBe('400 Subscription.channel.type');
    });

    it('a type that is not an R4 code (400)', () => {
      expect(refusedAs(changed((s) => ((s.channel as { type: string }).type = 'carrier-pigeon')))).toBe('400 Subscription.channel.type');
    });

    it.each(['message', 'sms'] as const)('%s, which is not offered (422)', (type) => {
      const error = refusal(changed((s) => (s.channel.type = type)));
      expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'not-supported', ['Subscription.channel.type']]);
    });

    it('a custom channel type in backport-channel-type (422: the IG says a server SHALL reject one it does not support)', () => {
      const subscription = changed(
        (s) => (s.channel._type = { extension: [{ url: CHANNEL_TYPE, valueCoding: { system: 'http://example.org/subscription-channel-type', code: 'zulip' } }] }),
      );
      expect(refusedAs(subscription)).toBe(`422 Subscription.channel.type.extension('${CHANNEL_TYPE}')`);
    });
  });

  describe('a rest-hook endpoint', () => {
    const endpoint = (value: string | undefined) => (s: Subscription) => {
      if (value === undefined) delete s.channel.endpoint;
      else s.channel.endpoint = value;
    };

    it('missing (422 required)', () => {
      const error = refusal(changed(endpoint(undefined)));
      expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'required', ['Subscription.channel.endpoint']]);
    });

    it('that does not parse (400)', () => {
      expect(refusedAs(changed(endpoint('https://exa mple.org/hook')))).toBe('400 Subscription.channel.endpoint');
      expect(refusedAs(changed(endpoint('https://[::1/hook')))).toBe('400 Subscription.channel.endpoint');
    });

    it.each([
      ['/hooks/1', 'relative: it would point at this server'],
      ['http://receiver.example.org/hook', 'http: in clear text'],
      ['ftp://receiver.example.org/hook', 'another scheme'],
      ['wss://receiver.example.org/hook', 'a websocket URL'],
      ['https://169.254.169.254/latest/meta-data/', 'the cloud metadata address (link-local)'],
      ['https://10.0.0.5/hook', 'private'],
      ['https://192.168.1.20/hook', 'private'],
      ['https://172.20.0.1/hook', 'private'],
      ['https://0.0.0.0/hook', 'unspecified'],
      ['https://224.0.0.1/hook', 'multicast'],
      ['https://[fd00::1]/hook', 'unique-local'],
      ['https://[fe80::1]/hook', 'link-local'],
      ['https://[::]/hook', 'unspecified'],
      ['https://[ff02::1]/hook', 'multicast'],
      ['https://127.0.0.1/hook', 'loopback'],
      ['https://2130706433/hook', 'loopback, written as one number'],
      ['https://0x7f.1/hook', 'loopback, written in hex'],
      ['https://[::ffff:127.0.0.1]/hook', 'loopback inside IPv6'],
      ['https://localhost/hook', 'this machine, by name'],
      ['https://api.localhost/hook', 'this machine, by a .localhost name'],
      ['https://localhost./hook', 'this machine, by its fully qualified name'],
      ['https://127.0.0.1./hook', 'loopback, with the root dot'],
    ])('%s (422: %s)', (value) => {
      const error = refusal(changed(endpoint(value)));
      expect(error.status).toBe(422);
      expect(error.issues.map((issue) => issue.expression?.[0])).toEqual(error.issues.map(() => 'Subscription.channel.endpoint'));
    });

    it('with credentials in it (422), without repeating them', () => {
      const error = refusal(changed(endpoint('https://user:hunter2@receiver.example.org/hook')));
      expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'security', ['Subscription.channel.endpoint']]);
      expect(JSON.stringify(error.outcome)).not.toContain('hunter2');
    });

    it('http: to loopback without the allowance names both rules (422)', () => {
      const error = refusal(changed(endpoint('http://127.0.0.1:8080/hook')));
      expect(error.status).toBe(422);
      expect(error.issues.map((issue) => issue.diagnostics)).toEqual([expect.stringContaining('https:'), expect.stringContaining('loopback')]);
    });

    it('the loopback allowance is for loopback only: http: elsewhere and private addresses stay refused', () => {
      for (const value of ['http://receiver.example.org/hook', 'http://10.0.0.5/hook', 'https://192.168.1.1/hook', 'http://[fd00::1]/']) {
        expect(refusal(changed(endpoint(value)), { allowHttpLoopback: true }).status).toBe(422);
      }
    });
  });

  describe('an email endpoint', () => {
    const email = (value: string | undefined, payload = 'text/plain') => (s: Subscription) => {
      s.channel.type = 'email';
      s.channel.payload = payload;
      delete s.channel.header;
      if (value === undefined) delete s.channel.endpoint;
      else s.channel.endpoint = value;
    };

    it.each([
      [undefined, 422],
      ['care-team@clinic.example.org', 422],
      ['https://clinic.example.org/', 422],
      ['mailto:a@clinic.example.org,b@clinic.example.org', 422],
      ['mailto:a@clinic.example.org?cc=b@clinic.example.org', 422],
      ['mailto:not-an-address', 400],
      ['mailto:a@localhost', 400],
      ['mailto:a b@clinic.example.org', 400],
      ['mailto:%ZZ@clinic.example.org', 400],
    ])('%j (%i)', (value, status) => {
      expect(refusedAs(changed(email(value)))).toBe(`${status} Subscription.channel.endpoint`);
    });
  });

  it('a websocket subscription with an endpoint (422: the client connects to the server)', () => {
    const subscription = changed((s) => {
      s.channel.type = 'websocket';
      delete s.channel.header;
    });
    expect(refusedAs(subscription)).toBe('422 Subscription.channel.endpoint');
  });

  describe('channel.header', () => {
    const headers = (...values: unknown[]) => (s: Subscription) => ((s.channel as { header: unknown[] }).header = values);

    it.each([
      ['Authorization: Bearer t\r\nX-Evil: 1', 'a line break (header injection)'],
      ['Authorization: Bearer t\nX-Evil: 1', 'a bare line feed'],
      ['NoColon', 'no colon'],
      [': value', 'no name'],
      ['Bad Name: x', 'a space in the name'],
      ['X-Bell: ding\u0007', 'a control character'],
      ['X-Snow: \u2603', 'a character beyond Latin-1'],
      [42, 'not a string'],
    ] as [unknown, string][])('%j is malformed (400): %s', (value) => {
      expect(refusedAs(changed(headers('X-Fine: 1', value)))).toBe('400 Subscription.channel.header[1]');
    });

    it.each(['Host: evil.example.org', 'content-type: text/plain', 'Content-Length: 0', 'Transfer-Encoding: chunked', 'Connection: close'])(
      '%s is the server\'s to set (422)',
      (value) => {
        expect(refusedAs(changed(headers(value)))).toBe('422 Subscription.channel.header[0]');
      },
    );

    it('on a channel other than rest-hook (422)', () => {
      const subscription = changed((s) => {
        s.channel.type = 'websocket';
        delete s.channel.endpoint;
      });
      expect(refusedAs(subscription)).toBe('422 Subscription.channel.header');
    });

    it('never repeats a header value in a diagnostic', () => {
      const error = refusal(changed(headers('Authorization: Bearer secret-token-value\r\n', 'Host: secret-host-value')));
      expect(error.issues).toHaveLength(2);
      expect(JSON.stringify(error.outcome)).not.toMatch(/secret-(token|host)-value/);
    });
  });

  describe('payload', () => {
    it('missing (422: the backport profile requires channel.payload)', () => {
      const error = refusal(changed((s) => delete s.channel.payload));
      expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'required', ['Subscription.channel.payload']]);
    });

    it('not a MIME type (400)', () => {
      expect(refusedAs(changed((s) => (s.channel.payload = 'json please')))).toBe('400 Subscription.channel.payload');
    });

    it.each(['application/fhir+xml', 'application/xml', 'text/plain', 'application/fhir+json; charset=iso-8859-1', 'application/fhir+json; fhirVersion=5.0', 'application/fhir+json; q=1'])(
      '%s on a rest-hook (422)',
      (payload) => {
        expect(refusedAs(changed((s) => (s.channel.payload = payload)))).toBe('422 Subscription.channel.payload');
      },
    );

    it.each(['application/fhir+json', 'text/html', 'text/plain;attach=application/fhir+xml'])('%s on an email (422: a human-readable text/plain body)', (payload) => {
      const subscription = changed((s) => {
        s.channel.type = 'email';
        s.channel.endpoint = 'mailto:care-team@clinic.example.org';
        s.channel.payload = payload;
        delete s.channel.header;
      });
      expect(refusedAs(subscription)).toBe('422 Subscription.channel.payload');
    });

    it('without the content level (422: the backport profile requires it)', () => {
      const error = refusal(changed((s) => delete s.channel._payload));
      expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'required', [CONTENT_AT]]);
    });

    it('full-resource (422), saying why: the subscriber reads the resource with its own token', () => {
      const error = refusal(changed((s) => (s.channel._payload = { extension: [{ url: CONTENT, valueCode: 'full-resource' }] })));
      expect([error.status, error.issues[0].code, error.issues[0].expression]).toEqual([422, 'not-supported', [`${CONTENT_AT}.value`]]);
      expect(error.issues[0].diagnostics).toMatch(/its own token.*consent/);
    });

    it('a content level outside the value set (400)', () => {
      expect(refusedAs(changed((s) => (s.channel._payload = { extension: [{ url: CONTENT, valueCode: 'everything' }] })))).toBe(`400 ${CONTENT_AT}.value`);
      expect(refusedAs(changed((s) => (s.channel._payload = { extension: [{ url: CONTENT, valueString: 'empty' }] })))).toBe(`400 ${CONTENT_AT}.value`);
    });

    it('two content levels (422: the profile allows one)', () => {
      const subscription = changed(
        (s) =>
          (s.channel._payload = {
            extension: [
              { url: CONTENT, valueCode: 'empty' },
              { url: CONTENT, valueCode: 'id-only' },
            ],
          }),
      );
      expect(refusedAs(subscription)).toBe(`422 ${CONTENT_AT}`);
    });
  });

  describe('heartbeat-period, timeout and max-count', () => {
    it.each([
      [HEARTBEAT, { valueUnsignedInt: 59 }, 422],
      [HEARTBEAT, { valueUnsignedInt: 86401 }, 422],
      [HEARTBEAT, { valueUnsignedInt: 0 }, 422],
      [HEARTBEAT, { valueUnsignedInt: -5 }, 400],
      [HEARTBEAT, { valueUnsignedInt: 90.5 }, 400],
      [HEARTBEAT, { valueInteger: 600 }, 400],
      [TIMEOUT, { valueUnsignedInt: 0 }, 422],
      [TIMEOUT, { valueUnsignedInt: 61 }, 422],
      [TIMEOUT, { valueString: '30' }, 400],
      [MAX_COUNT, { valuePositiveInt: 0 }, 400],
      [MAX_COUNT, { valueUnsignedInt: 10 }, 400],
    ])('%s %j (%i)', (url, value, status) => {
      expect(refusedAs(changed((s) => setting(s, url, value as Omit<Extension, 'url'>)))).toBe(`${status} ${SETTING_AT(url)}.value`);
    });

    it('twice (422: the profile allows one)', () => {
      const subscription = changed((s) => s.channel.extension!.push({ url: TIMEOUT, valueUnsignedInt: 5 }));
      expect(refusedAs(subscription)).toBe(`422 ${SETTING_AT(TIMEOUT)}`);
    });
  });

  it('names every problem at once: 400 when any is malformed, else 422', () => {
    const both = refusal(
      changed((s) => {
        s.status = 'active';
        s.channel.endpoint = 'https://exa mple.org/';
      }),
    );
    expect(both.status).toBe(400);
    expect(both.issues.map((issue) => issue.expression?.[0])).toEqual(['Subscription.status', 'Subscription.channel.endpoint']);

    const unprocessable = refusal(
      changed((s) => {
        s.end = '2001-01-01';
        s.channel.endpoint = 'https://10.1.1.1/';
        s.channel._payload = { extension: [{ url: CONTENT, valueCode: 'full-resource' }] };
      }),
    );
    expect(unprocessable.status).toBe(422);
    expect(unprocessable.issues.map((issue) => issue.expression?.[0])).toEqual(['Subscription.end', 'Subscription.channel.endpoint', `${CONTENT_AT}.value`]);
    expect(unprocessable.outcome.resourceType).toBe('OperationOutcome');
  });
});
