import { useEffect, useRef } from 'preact/hooks';
import { APP_PATH } from '../launch/start.js';

/**
 * The server's sign-in pages in a frame of the app's own, for a page that keeps its sign-in state in memory and so
 * must not navigate away (launch/smart.ts, signInFramed). The redirect back lands in this frame, whose copy of the
 * app posts the address here. Only that frame's messages, from this origin, naming the app's own address, count.
 */
export function SignInFrame({ url, answerType, onAnswer }: { url: string; answerType: string; onAnswer: (answer: URL) => void }) {
  const frame = useRef<HTMLIFrameElement>(null);

  useEffect(() => {
    frame.current?.focus();
    const listener = (event: MessageEvent) => {
      if (event.origin !== location.origin || !frame.current || event.source !== frame.current.contentWindow) return;
      const data = event.data as { type?: unknown; url?: unknown } | null;
      if (data?.type !== answerType || typeof data.url !== 'string') return;
      const answer = new URL(data.url);
      if (answer.origin !== location.origin || answer.pathname !== APP_PATH) return;
      window.removeEventListener('message', listener);
      onAnswer(answer);
    };
    window.addEventListener('message', listener);
    return () => window.removeEventListener('message', listener);
  }, [url]);

  return (
    <main id="main" class="sign-in-frame">
      <iframe ref={frame} src={url} title="Sign in to CCP Exchange" />
    </main>
  );
}
