import { hrefFor } from '../../../app/router';
import type { ModelView } from '../../../api/types';
import { versionName } from '../../../ui/format';
import { EvaluationTable } from './EvaluationTable';
import { LabelForm } from './LabelForm';
import { VersionsTable } from './VersionsTable';

export interface ModelCardProps {
  model: ModelView;
}

export function ModelCard({ model }: ModelCardProps) {
  const headingId = `model-${model.name}-heading`;
  const labels = Object.entries(model.labels).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section className="card model-card" aria-labelledby={headingId} data-testid={`model-${model.name}`}>
      <div className="card-title">
        <h2 id={headingId}>{model.name}</h2>
        <span className="muted">
          {labels.length === 0 ? 'no labels' : labels.map(([label, v]) => `${label} → ${versionName(v)}`).join(', ')}
        </span>
        <span className="links">
          <a href={hrefFor({ page: 'rollout', model: model.name })}>Rollout of {model.name}</a>
          <a href={hrefFor({ page: 'canary', model: model.name })}>Canary of {model.name}</a>
          <a href={hrefFor({ page: 'metrics', model: model.name })}>Metrics of {model.name}</a>
        </span>
      </div>
      {model.labels['stable'] === undefined && (
        <p role="note" className="notice small" data-testid={`latest-note-${model.name}`}>
          No <code>stable</code> label: requests that name no version go to the latest AVAILABLE version (TF Serving&apos;s behaviour), so a
          newly loaded version takes all of them. Set <code>stable</code> to decide which version serves.
        </p>
      )}
      <VersionsTable model={model} />
      <h3 className="small">Evaluation per held-out split</h3>
      <EvaluationTable model={model} />
      <LabelForm model={model} />
    </section>
  );
}
