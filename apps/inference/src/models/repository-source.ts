import { ModelRepository, existingRepositoryRoot } from '@servable/model-repository';
import type { ModelSource } from './manifest';

/** The shared model repository loader, seen through the few calls inference makes; a root that is not a directory fails start-up. */
export function repositorySource(root: string): ModelSource {
  const repository = new ModelRepository(existingRepositoryRoot(root));
  return {
    listModels: () => repository.listModels(),
    listVersions: (model) => repository.listVersions(model),
    readManifest: (model, version) => repository.readManifest(model, version),
    versionDir: (model, version) => repository.versionDir(model, version),
  };
}
