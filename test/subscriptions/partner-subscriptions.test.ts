import type { Organization, OrganizationContact } from 'fhir/r4';
import { isValidId } from '../../server/fhir/resource-types.js';
import { mailtoAddress } from '../../server/delivery/channels/email.js';
import { notificationAddress } from '../../server/subscriptions/partner-address.js';
import { partnerSubscriptionId, partnerSubscriptionSpecs } from '../../server/subscriptions/partner-subscriptions.js';
import { topicByUrl } from '../../server/subscriptions/topics.js';

// The guide's code, written out: the contract is the profile's (profiles/input/fsh/organization.fsh), not a constant.
const PURPOSE = { coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/contact-purpose', code: 'notifications' }] };
const PRIVACY = { coding: [{ system: 'http://ccp-exchange.org/fhir/CodeSystem/user-role', code: 'privacy-contact' }] };

const contact = (value: string, system: 'email' | 'phone' = 'email'): OrganizationContact => ({ purpose: PURPOSE, telecom: [{ system, value }] });
const organization = (contacts: OrganizationContact[], extra: Partial<Organization> = {}): Organization => ({ resourceType: 'Organization', id: 'org-1', active: true, contact: contacts, ...extra });

describe("a partner's notification address", () => {
  it('is the email of the contact whose purpose is notifications; other contacts are not it', () => {
    const org = organization([{ purpose: PRIVACY, telecom: [{ system: 'email', value: 'privacy@org.example' }] }, contact('notices@org.example')]);
    expect(notificationAddress(org)).toEqual({ address: 'notices@org.example', problems: [] });
    expect(notificationAddress(organization([{ purpose: PRIVACY, telecom: [{ system: 'email', value: 'privacy@org.example' }] }]))).toEqual({ problems: [] });
    expect(notificationAddress({ resourceType: 'Organization' })).toEqual({ problems: [] });
  });

  it.each<[string, OrganizationContact[], string]>([
    ['not an address', [contact('ccp desk')], 'Organization.contact[0].telecom[0].value'],
    ['an address list', [contact('a@org.example,b@org.example')], 'Organization.contact[0].telecom[0].value'],
    ['a phone number', [contact('555-0100', 'phone')], 'Organization.contact[0].telecom'],
    ['no telecom', [{ purpose: PURPOSE }], 'Organization.contact[0].telecom'],
    ['two telecoms', [{ purpose: PURPOSE, telecom: [{ system: 'email', value: 'a@org.example' }, { system: 'email', value: 'b@org.example' }] }], 'Organization.contact[0].telecom'],
    ['no value', [{ purpose: PURPOSE, telecom: [{ system: 'email' }] }], 'Organization.contact[0].telecom[0].value'],
    ['two notification contacts', [{ purpose: PRIVACY }, contact('a@org.example'), contact('b@org.example')], 'Organization.contact[2]'],
  ])('is refused (422) when it is %s, at %s', (_what, contacts, expression) => {
    const { address, problems } = notificationAddress(organization(contacts));
    expect(address).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ status: 422, expression });
  });
});

describe("a partner's system-managed email subscriptions", () => {
  it('are one per partner topic: email, the address as mailto:, payload empty, no filters, owned by the organization with read scopes on the foci', () => {
    const specs = partnerSubscriptionSpecs(organization([contact('notices@org.example')]), 'host');
    expect(specs.map((spec) => spec.id)).toEqual(['partner:org-1:ccp-changed', 'partner:org-1:service-notice', 'partner:org-1:organization-joined']);
    for (const spec of specs) {
      expect(spec).toMatchObject({ channel: 'email', endpoint: 'mailto:notices@org.example', payload: 'empty', filters: [], headers: [], maxCount: 1 });
      expect(spec.owner).toEqual({ kind: 'organization', organization: 'org-1', scopes: ['system/CarePlan.r', 'system/Communication.r', 'system/Organization.r'] });
      // Each topic's focus is among what the owner may read.
      for (const focus of topicByUrl(spec.topic)!.focus) expect(spec.owner.scopes).toContain(`system/${focus}.r`);
    }
  });

  it('are none for the hosting organization, an inactive or deleted one, or one without an address', () => {
    expect(partnerSubscriptionSpecs(organization([contact('notices@org.example')]), 'org-1')).toEqual([]);
    expect(partnerSubscriptionSpecs(organization([contact('notices@org.example')], { active: false }), 'host')).toEqual([]);
    expect(partnerSubscriptionSpecs(undefined, 'host')).toEqual([]);
    expect(partnerSubscriptionSpecs(organization([]), 'host')).toEqual([]);
    expect(partnerSubscriptionSpecs(organization([contact('not an address')]), 'host')).toEqual([]);
    // R4: an Organization without `active` is active.
    expect(partnerSubscriptionSpecs({ resourceType: 'Organization', id: 'org-2', contact: [contact('n@org.example')] }, 'host')).toHaveLength(3);
  });

  it("have ids no Subscription resource can have, so no client's Subscription can replace or delete them", () => {
    const id = partnerSubscriptionId('org-1', 'ccp-changed');
    expect(isValidId(id)).toBe(false);
    expect(isValidId('partner-org-1-ccp-changed')).toBe(true);
  });

  it('write an address with ? or % in its local part so that the email channel reads back the same address', () => {
    const [spec] = partnerSubscriptionSpecs(organization([contact('what?100%@org.example')]), 'host');
    expect(spec.endpoint).toBe('mailto:what%3F100%25@org.example');
    expect(mailtoAddress(spec.endpoint)).toBe('what?100%@org.example');
  });
});
