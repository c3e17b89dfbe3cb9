import { useState } from 'react';
import { navigate } from '../../../app/router';
import { versionName } from '../../../ui/format';
import { ModelSelect } from '../../../ui/ModelSelect';
import { PageHeading } from '../../../ui/PageHeading';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import { useModels } from '../../models/hooks/use-models';
import { useCanaryRuns } from '../hooks/use-canary';
import { useRollout } from '../../rollout/hooks/use-rollout';
import { CanaryHistory } from './CanaryHistory';
import { CanaryRunCard } from './CanaryRunCard';
import { StartCanaryForm } from './StartCanaryForm';

export interface CanaryPageProps {
  /** From the URL (#/canary/spam); the first model when absent. */
  model?: string;
}

/** Automated canary analysis: start a run, watch its steps and checks live, abort, and read past runs. */
export function CanaryPage({ model: routeModel }: CanaryPageProps) {
  const models = useModels();
  const names = models.data?.map((m) => m.name) ?? [];
  const name = routeModel ?? names[0];
  const model = models.data?.find((m) => m.name === name);
  const runs = useCanaryRuns(model ? name : undefined);
  const [message, setMessage] = useState<string | null>(null);
  const running = runs.data?.find((r) => r.state === 'RUNNING');
  const finished = runs.data?.filter((r) => r.state !== 'RUNNING') ?? [];
  // The stable a run compares against is the server's: the rollout's explicit one, else the label.
  const rollout = useRollout(model ? name : undefined);
  const stable = rollout.data?.rollout?.stableVersion ?? model?.labels['stable'];

  return (
    <>
      <PageHeading intro="Steps a new version's traffic up and judges it against stable at every step: it is promoted when every gate passes and rolled back as soon as one fails.">
        Canary
      </PageHeading>
      {models.isPending && <Loading label="Loading models…" />}
      {models.isError && <ErrorState title="Could not load the models" error={models.error} onRetry={() => void models.refetch()} />}
      {models.data && names.length === 0 && <EmptyState>No models are registered yet.</EmptyState>}
      {models.data && names.length > 0 && (
        <ModelSelect
          id="canary-model"
          models={names}
          value={name ?? ''}
          onChange={(m) => {
            setMessage(null);
            navigate({ page: 'canary', model: m });
          }}
        />
      )}
      {models.data && name && !model && <ErrorState title="Unknown model" error={new Error(`There is no model named ${name}.`)} />}
      {model && stable === undefined && (
        <p role="note" className="notice" data-testid="no-stable-note">
          {model.name} has no <code>stable</code> label: requests that name no version go to its latest AVAILABLE version, as in TF Serving, so a
          new version takes all traffic once loaded. Set the stable label on the Models page before starting a canary.
        </p>
      )}
      {model && stable !== undefined && (
        <p className="muted">
          Stable is {versionName(stable)}. New uploads take no traffic until a label move, a rollout or a canary run.
        </p>
      )}
      {message && (
        <p role="status" className="notice">
          {message}
        </p>
      )}
      {model && runs.isPending && <Loading label="Loading canary runs…" />}
      {model && runs.isError && <ErrorState title="Could not load the canary runs" error={runs.error} onRetry={() => void runs.refetch()} />}
      {model && runs.data && (
        <>
          {running ? <CanaryRunCard run={running} onAborted={setMessage} /> : stable !== undefined && <StartCanaryForm key={`${model.name}/${stable}`} model={model} stable={stable} onStarted={setMessage} />}
          <CanaryHistory runs={finished} />
        </>
      )}
    </>
  );
}
