/** The app's screens by path below /app/ (the server serves index.html for every path there that is not a file). */
export type Route = { screen: 'plan'; id?: string } | { screen: 'history'; id: string } | { screen: 'requests' };

export function routeOf(pathname: string): Route {
  if (/^\/app\/requests\/?$/.test(pathname)) return { screen: 'requests' };
  const match = /^\/app\/plan\/([A-Za-z0-9\-.]{1,64})(\/history)?\/?$/.exec(pathname);
  if (!match) return { screen: 'plan' };
  return match[2] ? { screen: 'history', id: match[1] } : { screen: 'plan', id: match[1] };
}

export function pathOf(route: Route): string {
  if (route.screen === 'requests') return '/app/requests';
  if (route.screen === 'history') return `/app/plan/${route.id}/history`;
  return route.id ? `/app/plan/${route.id}` : '/app/';
}
