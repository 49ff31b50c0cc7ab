import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { routeOf, type Route } from './routes.js';

const listeners = new Set<() => void>();

/** Moves within the app without reloading (the session stays in memory; a reload would restore it anyway). */
export function navigate(path: string): void {
  history.pushState(null, '', path);
  listeners.forEach((listener) => listener());
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.pathname));
  useEffect(() => {
    const update = () => setRoute(routeOf(location.pathname));
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return route;
}

/** A real link (it opens in a new tab, it can be copied) that moves within the app on a plain click. */
export function Link({ href, children, className }: { href: string; children: ComponentChildren; className?: string }) {
  return (
    <a
      href={href}
      class={className}
      onClick={(event) => {
        if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}
