import { useEffect, useRef } from 'preact/hooks';

/**
 * The screen's h1 takes focus when the screen changes, so that a screen reader announces the new screen and a
 * keyboard user continues from its top (the page does not reload, so the browser would not do it).
 */
export function useTitleFocus<T extends HTMLElement>(key: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [key]);
  return ref;
}
