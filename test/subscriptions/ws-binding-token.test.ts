import { bindingTokenParameters } from '../../server/subscriptions/ws-binding-token.js';

describe('$get-ws-binding-token', () => {
  it("answers the IG's out parameters: token (string), expiration (dateTime), subscription (string, each), websocket-url (url)", () => {
    expect(
      bindingTokenParameters({
        token: 'token-abc',
        expiration: new Date('2026-12-07T14:05:00Z'),
        subscriptionIds: ['s1', 's2'],
        websocketUrl: 'wss://ccp.example.org/fhir-ws',
      }),
    ).toEqual({
      resourceType: 'Parameters',
      parameter: [
        { name: 'token', valueString: 'token-abc' },
        { name: 'expiration', valueDateTime: '2026-12-07T14:05:00.000Z' },
        { name: 'subscription', valueString: 'Subscription/s1' },
        { name: 'subscription', valueString: 'Subscription/s2' },
        { name: 'websocket-url', valueUrl: 'wss://ccp.example.org/fhir-ws' },
      ],
    });
  });
});
