import { forbiddenRange, isIpLiteral, isLoopback } from '../../server/subscriptions/address-ranges.js';

/** The ranges from the IANA special-purpose address registries (RFC 6890 and its updates), worked out by hand. */
describe('forbidden destination ranges', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['192.168.1.20', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.0.1', 'link-local'],
    ['0.0.0.0', 'unspecified (this network)'],
    ['0.1.2.3', 'unspecified (this network)'],
    ['100.64.0.1', 'shared (carrier-grade NAT)'],
    ['100.127.255.255', 'shared (carrier-grade NAT)'],
    ['192.0.0.8', 'IETF protocol assignments'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.255', 'documentation'],
    ['203.0.113.0', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved (broadcast included)'],
    ['255.255.255.255', 'reserved (broadcast included)'],
  ])('IPv4 %s is %s', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each([
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'], // with a zone, as a resolver may give it
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456:789a::1', 'unique-local'],
    ['ff02::1', 'multicast'],
    ['64:ff9b:1::a', 'local-use NAT64'],
    ['64:ff9b:1:ffff::808:808', 'local-use NAT64'],
    ['100::1', 'discard-only'],
    ['100::ffff:ffff:ffff:ffff', 'discard-only'],
    ['2001:db8::1', 'documentation'],
    ['2001:db8:ffff:ffff::1', 'documentation'],
  ])('IPv6 %s is %s', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'], // IPv4-mapped, dotted
    ['::ffff:7f00:1', 'loopback'], // IPv4-mapped, as the URL parser writes it
    ['::ffff:10.0.0.1', 'private'],
    ['[::ffff:a9fe:a9fe]', 'link-local'], // 169.254.169.254
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['0:0:0:0:0:ffff:192.168.0.1', 'private'],
    ['::10.0.0.1', 'private'], // IPv4-compatible
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'], // NAT64
    ['64:ff9b::a9fe:a9fe', 'link-local'], // NAT64 of 169.254.169.254
    ['2002:c0a8:0101::1', 'private'], // 6to4 of 192.168.1.1
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:a00:1::1', 'private'], // 6to4 of 10.0.0.1
    ['::ffff:192.0.2.1', 'documentation'],
  ])('IPv6 %s carries an IPv4 address that is %s', (address, range) => {
    expect(forbiddenRange(address)).toBe(`${range} (inside an IPv6 address)`);
  });

  it.each(['::8.8.8.8', '::1.1.1.1'])('IPv6 %s is IPv4-compatible, deprecated, whatever public address it carries', (address) => {
    expect(forbiddenRange(address)).toBe('IPv4-compatible (deprecated)');
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '11.0.0.1',
    '172.32.0.1',
    '172.15.255.255',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.255.255',
    '192.0.3.1',
    '192.169.0.1',
    '198.51.101.1',
    '203.0.112.255',
    '223.255.255.255',
    '2001:4860:4860::8888',
    '2001:db9::1',
    '2606:4700::1111',
    '2606:4700:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:0808:0808::1',
    '2002:808:808::1',
  ])(
    '%s is public',
    (address) => {
      expect(isIpLiteral(address)).toBe(true);
      expect(forbiddenRange(address)).toBeUndefined();
    },
  );

  it.each(['example.org', 'localhost', '1.2.3', '10.0.0', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1.2.3.4%eth0', ':::1', '1::2::3', '1:2:3:4:5:6:7:8:9', 'fe80::1%', '::ffff:1.2.3.256', '12345::1', ''])(
    '%s is no IP literal, so no range (names are judged by what they resolve to)',
    (text) => {
      expect(isIpLiteral(text)).toBe(false);
      expect(forbiddenRange(text)).toBeUndefined();
    },
  );

  it('knows loopback, whatever its spelling', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(address)).toBe(true);
    for (const address of ['10.0.0.1', '8.8.8.8', '::', 'fe80::1', 'localhost']) expect(isLoopback(address)).toBe(false);
  });
});
