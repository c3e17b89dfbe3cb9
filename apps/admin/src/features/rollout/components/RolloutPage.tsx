import { useState } from 'react';
import { navigate } from '../../../app/router';
import { PageHeading } from '../../../ui/PageHeading';
import { ModelSelect } from '../../../ui/ModelSelect';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import { useCanaryRuns } from '../../canary/hooks/use-canary';
import { useModels } from '../../models/hooks/use-models';
import { useRollout } from '../hooks/use-rollout';
import { draftFromRollout } from '../rollout-draft';
import { CanaryRunNotice } from './CanaryRunNotice';
import { RolloutActions } from './RolloutActions';
import { RolloutEditor } from './RolloutEditor';
import { RolloutHistory } from './RolloutHistory';
import { SplitBar } from './SplitBar';

export interface RolloutPageProps {
  /** From the URL (#/rollout/spam); the first model when absent. */
  model?: string;
}

export function RolloutPage({ model: routeModel }: RolloutPageProps) {
  const models = useModels();
  const names = models.data?.map((m) => m.name) ?? [];
  const name = routeModel ?? names[0];
  const model = models.data?.find((m) => m.name === name);
  const rollout = useRollout(model ? name : undefined);
  // The canary page's query: polled while a run is RUNNING, and the rollout reloaded when it ends.
  const runs = useCanaryRuns(model ? name : undefined);
  const running = runs.data?.find((r) => r.state === 'RUNNING');
  const [message, setMessage] = useState<string | null>(null);

  return (
    <>
      <PageHeading intro="How a model's traffic is split between stable, canary, cohort pins and a shadow.">Rollout</PageHeading>
      {models.isPending && <Loading label="Loading models…" />}
      {models.isError && <ErrorState title="Could not load the models" error={models.error} onRetry={() => void models.refetch()} />}
      {models.data && names.length === 0 && <EmptyState>No models are registered yet, so there is nothing to roll out.</EmptyState>}
      {models.data && names.length > 0 && (
        <ModelSelect
          id="rollout-model"
          models={names}
          value={name ?? ''}
          onChange={(m) => {
            setMessage(null);
            navigate({ page: 'rollout', model: m });
          }}
        />
      )}
      {models.data && name && !model && <ErrorState title="Model not found" error={new Error(`There is no model named “${name}”. Choose one above.`)} />}
      {model && rollout.isPending && <Loading label="Loading the rollout…" />}
      {model && rollout.isError && <ErrorState title="Could not load the rollout" error={rollout.error} onRetry={() => void rollout.refetch()} />}
      {model && rollout.data && (
        <>
          {message && (
            <p role="status" className="notice">
              {message}
            </p>
          )}
          {running && <CanaryRunNotice run={running} />}
          <section className="card" aria-labelledby="rollout-now-heading">
            <h2 id="rollout-now-heading">Current split</h2>
            {rollout.data.rollout === null && <p className="muted">{model.name} has no rollout: every request goes to the stable label.</p>}
            <SplitBar draft={draftFromRollout(rollout.data.rollout)} stableLabel={model.labels['stable']} testId="rollout-split" caption="Now" />
          </section>
          <RolloutEditor
            key={`${model.name}@${rollout.data.rollout?.updatedAt ?? 'none'}`}
            model={model}
            rollout={rollout.data.rollout}
            onSaved={setMessage}
            locked={running !== undefined}
          />
          <RolloutActions model={model.name} rollout={rollout.data.rollout} onDone={setMessage} locked={running !== undefined} />
          <RolloutHistory model={model.name} />
        </>
      )}
    </>
  );
}
