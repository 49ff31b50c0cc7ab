import { useEffect, useState } from 'preact/hooks';
import { diffResources, sectionOf, valueText } from '../plan/diff.js';
import type { VersionView } from '../plan/history.js';
import { loadHistory, type LoadFailure } from '../plan/load.js';
import { formatDateTime } from './format.js';
import { Link } from './navigation.js';
import { Failure } from './PlanScreen.js';
import { pathOf } from './routes.js';
import type { Session } from './session.js';
import { useTitleFocus } from './useTitleFocus.js';

type Loaded = { state: 'loading' } | { state: 'done'; versions: VersionView[] } | { state: 'failed'; failure: LoadFailure };

/** Every version of a plan, who changed it and when, and what changed between any two. */
export function HistoryScreen({ session, id, onSessionEnded }: { session: Session; id: string; onSessionEnded: () => void }) {
  const [loaded, setLoaded] = useState<Loaded>({ state: 'loading' });
  const title = useTitleFocus<HTMLHeadingElement>(`history-${id}`);
  useEffect(() => {
    let current = true;
    setLoaded({ state: 'loading' });
    void loadHistory(session.client, id).then((result) => {
      if (!current) return;
      if ('kind' in result) {
        if (result.kind === 'session-ended') onSessionEnded();
        setLoaded({ state: 'failed', failure: result });
      } else setLoaded({ state: 'done', versions: result });
    });
    return () => {
      current = false;
    };
  }, [id, session]);

  return (
    <main id="main">
      <p class="back">
        <Link href={pathOf({ screen: 'plan', id })}>Back to the plan</Link>
      </p>
      <h1 ref={title} tabIndex={-1}>
        Plan history
      </h1>
      {loaded.state === 'loading' && <p role="status">Loading the plan’s history…</p>}
      {loaded.state === 'failed' && <Failure failure={loaded.failure} />}
      {loaded.state === 'done' && (
        <>
          <Versions versions={loaded.versions} />
          {loaded.versions.length > 1 && <Compare versions={loaded.versions} />}
        </>
      )}
    </main>
  );
}

function Versions({ versions }: { versions: VersionView[] }) {
  return (
    <section aria-labelledby="versions-title">
      <h2 id="versions-title">Versions</h2>
      <table class="table">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Saved</th>
            <th scope="col">Status</th>
            <th scope="col">Changed by</th>
            <th scope="col">Why</th>
          </tr>
        </thead>
        <tbody>
          {versions.map((version) => (
            <tr key={version.versionId}>
              <th scope="row">{version.versionId}</th>
              <td>{formatDateTime(version.at)}</td>
              <td>{version.status}</td>
              <td>{version.by ? `${version.by}${version.onBehalfOf ? `, ${version.onBehalfOf}` : ''}` : <span class="muted">not recorded with the plan</span>}</td>
              <td>{[version.activity, version.reason].filter(Boolean).join(': ') || <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Compare({ versions }: { versions: VersionView[] }) {
  const [older, setOlder] = useState(versions[1].versionId);
  const [newer, setNewer] = useState(versions[0].versionId);
  const before = versions.find((version) => version.versionId === older)!;
  const after = versions.find((version) => version.versionId === newer)!;
  const changes = diffResources(before.plan, after.plan);
  const option = (version: VersionView) => (
    <option key={version.versionId} value={version.versionId}>
      Version {version.versionId}, {formatDateTime(version.at)}
    </option>
  );
  return (
    <section aria-labelledby="compare-title">
      <h2 id="compare-title">What changed</h2>
      <form class="compare" onSubmit={(event) => event.preventDefault()}>
        <div class="field">
          <label for="compare-older">From</label>
          <select id="compare-older" value={older} onChange={(event) => setOlder(event.currentTarget.value)}>
            {versions.map(option)}
          </select>
        </div>
        <div class="field">
          <label for="compare-newer">To</label>
          <select id="compare-newer" value={newer} onChange={(event) => setNewer(event.currentTarget.value)}>
            {versions.map(option)}
          </select>
        </div>
      </form>
      <p role="status">
        {older === newer ? 'The same version is chosen twice.' : changes.length === 0 ? 'No changes in the plan’s content between these versions.' : `${changes.length} ${changes.length === 1 ? 'change' : 'changes'} from version ${older} to version ${newer}.`}
      </p>
      {changes.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th scope="col">Part of the plan</th>
              <th scope="col">Element</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((change, n) => (
              <tr key={n}>
                <th scope="row">{sectionOf(change)}</th>
                <td>
                  <code>{change.path}</code>
                </td>
                <td>{change.kind === 'added' ? <span class="muted">(none)</span> : valueText(change.before)}</td>
                <td>{change.kind === 'removed' ? <span class="muted">(removed)</span> : valueText(change.after)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
