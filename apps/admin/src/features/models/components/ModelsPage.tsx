import { PageHeading } from '../../../ui/PageHeading';
import { EmptyState, ErrorState, Loading } from '../../../ui/QueryStates';
import { useSession } from '../../session/session-context';
import { useModels } from '../hooks/use-models';
import { ModelCard } from './ModelCard';
import { UploadVersionForm } from './UploadVersionForm';

export function ModelsPage() {
  const session = useSession();
  const models = useModels();
  const isAdmin = session.can('admin');
  return (
    <>
      <PageHeading intro="Every model with its versions, labels and load state.">Models</PageHeading>
      {isAdmin ? (
        <UploadVersionForm models={models.data?.map((m) => m.name) ?? []} />
      ) : (
        <p role="note" className="notice" data-testid="upload-admin-only">
          Registering a new version needs the admin role; your role ({session.role}) can move labels and load or unload versions.
        </p>
      )}
      {models.isPending && <Loading label="Loading models…" />}
      {models.isError && <ErrorState title="Could not load the models" error={models.error} onRetry={() => void models.refetch()} />}
      {models.data && models.data.length === 0 && <EmptyState>No models are registered yet.{isAdmin ? ' Upload a first version above.' : ''}</EmptyState>}
      {models.data?.map((m) => <ModelCard key={m.name} model={m} />)}
    </>
  );
}
