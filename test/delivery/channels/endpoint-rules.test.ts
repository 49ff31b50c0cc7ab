import { addressRefusal, checkEndpoint } from '../../../server/delivery/channels/endpoint-rules.js';
import { parseChannelHeaders } from '../../../server/delivery/channels/channel-headers.js';

/**
 * The SSRF rule of rest-hooks at connect time. Which range an address is in is tested with its one implementation
 * (test/subscriptions/address-ranges.test.ts); here, what the rule lets through. No traffic but local DNS.
 */
describe('the address rule', () => {
  it('lets only public addresses through by default', () => {
    expect(addressRefusal('93.184.216.34', {})).toBeUndefined();
    expect(addressRefusal('127.0.0.1', {})).toMatch(/loopback/);
    expect(addressRefusal('::ffff:127.0.0.1', {})).toMatch(/loopback/);
    expect(addressRefusal('169.254.169.254', {})).toMatch(/link-local/);
    expect(addressRefusal('fe80::1%eth0', {})).toBe('the endpoint resolves to a link-local address');
    expect(addressRefusal('192.0.2.1', {})).toBe('the endpoint resolves to a documentation address');
    expect(addressRefusal('::8.8.8.8', {})).toBe('the endpoint resolves to a IPv4-compatible (deprecated) address');
    expect(addressRefusal('localhost', {})).toBe('not an IP address');
  });

  it('with loopback allowed, lets loopback through and still nothing else that is private', () => {
    expect(addressRefusal('127.0.0.1', { allowLoopback: true })).toBeUndefined();
    expect(addressRefusal('::1', { allowLoopback: true })).toBeUndefined();
    expect(addressRefusal('10.0.0.1', { allowLoopback: true })).toMatch(/private/);
    expect(addressRefusal('169.254.169.254', { allowLoopback: true })).toMatch(/link-local/);
    expect(addressRefusal('fd00::1', { allowLoopback: true })).toMatch(/unique-local/);
  });
});

describe('checkEndpoint (at create time)', () => {
  it('refuses what is not an https URL', async () => {
    expect(await checkEndpoint(undefined)).toEqual({ ok: false, retry: false, reason: 'the endpoint is not a URL' });
    expect(await checkEndpoint('not a url')).toEqual({ ok: false, retry: false, reason: 'the endpoint is not a URL' });
    expect(await checkEndpoint('http://93.184.216.34/hook')).toEqual({ ok: false, retry: false, reason: 'the endpoint must use https' });
    expect(await checkEndpoint('ftp://93.184.216.34/hook')).toMatchObject({ ok: false, retry: false });
  });

  it('refuses the cloud metadata address and private addresses, however written', async () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'http://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1/hook',
      'https://[::ffff:10.0.0.1]/hook',
      'https://[fe80::1]/hook',
      'https://0x7f000001/hook', // the URL parser reads it as 127.0.0.1
      'https://2130706433/hook',
      'https://0.0.0.0/hook',
    ]) {
      const outcome = await checkEndpoint(url);
      expect({ url, ...outcome }).toMatchObject({ url, ok: false, retry: false });
    }
  });

  it('refuses a name that resolves to loopback, unless loopback is allowed', async () => {
    expect(await checkEndpoint('https://localhost/hook')).toEqual({
      ok: false,
      retry: false,
      reason: 'the endpoint resolves to a loopback address',
    });
    expect(await checkEndpoint('https://localhost/hook', { allowLoopback: true })).toEqual({ ok: true });
    expect(await checkEndpoint('http://localhost:8080/hook', { allowLoopback: true })).toEqual({ ok: true });
  });

  it('allows http with loopback allowed only to loopback', async () => {
    expect(await checkEndpoint('http://127.0.0.1:9/hook', { allowLoopback: true })).toEqual({ ok: true });
    expect(await checkEndpoint('http://10.0.0.1/hook', { allowLoopback: true })).toEqual({
      ok: false,
      retry: false,
      reason: 'http is allowed to loopback addresses only',
    });
    expect(await checkEndpoint('http://93.184.216.34/hook', { allowLoopback: true })).toEqual({
      ok: false,
      retry: false,
      reason: 'http is allowed to loopback addresses only',
    });
  });

  it('says a name that does not resolve may be worth another try, without repeating it', async () => {
    const outcome = await checkEndpoint('https://no-such-host.invalid/hook');
    expect(outcome).toMatchObject({ ok: false, retry: true });
    expect(JSON.stringify(outcome)).not.toContain('no-such-host');
  });
});

describe('channel.header lines', () => {
  it('take a Latin-1 value, as the Subscription check does (one rule: server/subscriptions/headers.ts)', () => {
    expect(parseChannelHeaders(['X-Name: caf\u00e9'])).toEqual({ ok: true, headers: [['X-Name', 'caf\u00e9']] });
  });

  it('are read as name and value', () => {
    expect(parseChannelHeaders(['Authorization: Bearer abc:def', 'X-Trace:  42 '])).toEqual({
      ok: true,
      headers: [
        ['Authorization', 'Bearer abc:def'],
        ['X-Trace', '42'],
      ],
    });
  });

  it('refuse line breaks, bad names and the headers the server sets, naming the line but not its value', () => {
    const refusals = [
      parseChannelHeaders(['X-A: secret\r\nX-Injected: 1']),
      parseChannelHeaders(['no colon secret']),
      parseChannelHeaders(['Bad Name: secret']),
      parseChannelHeaders(['X-Ok: 1', 'Content-Type: text/plain']),
      parseChannelHeaders(['Host: internal.example']),
      parseChannelHeaders(['Proxy-Authorization: Basic secret']),
      parseChannelHeaders(['X-Name: secret \u0100']),
    ];
    expect(refusals.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
      'channel.header[0] has characters a header value cannot carry',
      'channel.header[0] is not "Name: value"',
      'channel.header[0] has an invalid header name',
      'channel.header[1] sets Content-Type, which the server sets itself',
      'channel.header[0] sets Host, which the server sets itself',
      'channel.header[0] sets Proxy-Authorization, which the server sets itself',
      'channel.header[0] has characters a header value cannot carry',
    ]);
    expect(JSON.stringify(refusals)).not.toContain('secret');
  });
});
