import { useEffect, useState } from 'react';

export interface ReadinessCheck {
  ready: boolean;
  checks: Record<string, unknown>;
}

export interface AppProps {
  /** Where the gateway's readiness report is; the console is served by the gateway, so same origin. */
  readyzUrl?: string;
}

type State = { kind: 'loading' } | { kind: 'ok'; report: ReadinessCheck } | { kind: 'error'; message: string };

/** The first page of the console: is the platform up, and what does each service say. */
export function App({ readyzUrl = '/readyz' }: AppProps) {
  const [state, setState] = useState<State>({ kind: 'loading' });

  useEffect(() => {
    let cancelled = false;
    fetch(readyzUrl)
      .then(async (res) => {
        const body = (await res.json()) as ReadinessCheck;
        if (!cancelled) setState({ kind: 'ok', report: body });
      })
      .catch((err: Error) => !cancelled && setState({ kind: 'error', message: err.message }));
    return () => {
      cancelled = true;
    };
  }, [readyzUrl]);

  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto', padding: '0 1rem' }}>
      <h1>Servable</h1>
      <p>Serving text models: tokenizer, inference and gateway.</p>
      <section aria-labelledby="health-heading">
        <h2 id="health-heading">Platform health</h2>
        {state.kind === 'loading' && <p role="status">Checking the gateway…</p>}
        {state.kind === 'error' && <p role="alert">The gateway did not answer: {state.message}</p>}
        {state.kind === 'ok' && (
          <>
            <p role="status">{state.report.ready ? 'Ready' : 'Not ready'}</p>
            <dl>
              {Object.entries(state.report.checks).map(([name, value]) => (
                <div key={name}>
                  <dt>{name}</dt>
                  <dd>{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
                </div>
              ))}
            </dl>
          </>
        )}
      </section>
    </main>
  );
}
