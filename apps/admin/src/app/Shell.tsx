import { useEffect, useRef } from 'react';
import { ApiKeysPage } from '../features/api-keys/components/ApiKeysPage';
import { AuditPage } from '../features/audit/components/AuditPage';
import { CanaryPage } from '../features/canary/components/CanaryPage';
import { MetricsPage } from '../features/metrics/components/MetricsPage';
import { ModelsPage } from '../features/models/components/ModelsPage';
import { OverviewPage } from '../features/overview/components/OverviewPage';
import { PlaygroundPage } from '../features/playground/components/PlaygroundPage';
import { RolloutPage } from '../features/rollout/components/RolloutPage';
import { useSession } from '../features/session/session-context';
import { PageHeading } from '../ui/PageHeading';
import { hrefFor, PAGES, useRoute, type PageEntry, type Route } from './router';

/** The signed-in console: header, navigation (a sidebar, a top bar on narrow screens) and the page. */
export function Shell() {
  const session = useSession();
  const route = useRoute();
  const entry = PAGES.find((p) => p.id === route.page) ?? PAGES[0];
  const visible = PAGES.filter((p) => session.can(p.role));

  // Move focus to the new page's heading, so keyboard and screen-reader users land there.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('page-title')?.focus();
  }, [route.page]);

  return (
    <div className="shell">
      {/* The hash is the router's, so the link moves focus itself: href="#main" navigated to the Overview. */}
      <a
        className="skip-link"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById('main')?.focus();
        }}
      >
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Servable console</span>
        <div className="who" data-testid="session-info">
          {session.authOn ? (
            <span>
              {session.view.key ? <>{session.view.key.name} · </> : null}
              role <strong data-testid="session-role">{session.role}</strong>
            </span>
          ) : (
            <span className="badge badge-warn" data-testid="session-role">
              auth off (dev mode)
            </span>
          )}
          {session.hasKey && (
            <button type="button" className="secondary" onClick={session.signOut}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <nav className="sidebar" aria-label="Main">
        <ul>
          {visible.map((p) => (
            <li key={p.id}>
              <a href={hrefFor({ page: p.id })} aria-current={p.id === entry.id ? 'page' : undefined}>
                {p.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {session.can(entry.role) ? <PageFor route={route} /> : <NotAllowed entry={entry} />}
      </main>
    </div>
  );
}

function PageFor({ route }: { route: Route }) {
  switch (route.page) {
    case 'overview':
      return <OverviewPage />;
    case 'playground':
      return <PlaygroundPage model={route.model} />;
    case 'models':
      return <ModelsPage />;
    case 'rollout':
      return <RolloutPage model={route.model} />;
    case 'canary':
      return <CanaryPage model={route.model} />;
    case 'metrics':
      return <MetricsPage model={route.model} />;
    case 'audit':
      return <AuditPage />;
    case 'api-keys':
      return <ApiKeysPage />;
  }
}

function NotAllowed({ entry }: { entry: PageEntry }) {
  const session = useSession();
  return (
    <>
      <PageHeading>{entry.title}</PageHeading>
      <p role="note" className="notice">
        {entry.title} needs the {entry.role} role; your key has the {session.role} role. Ask an admin for a key with more rights.
      </p>
    </>
  );
}
