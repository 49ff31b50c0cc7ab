/** Whether `url` is on the machine itself: the only place plain http is accepted (RFC 8252 §7.3, development). */
export function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}
