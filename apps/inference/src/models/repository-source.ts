import { ModelRepository } from '@servable/model-repository';
import type { ModelSource, ServableManifest } from './manifest';

/** The shared model repository loader, seen through the few calls inference makes. */
export function repositorySource(root: string): ModelSource {
  const repository = new ModelRepository(root);
  return {
    listModels: () => repository.listModels(),
    listVersions: (model) => repository.listVersions(model),
    readManifest: async (model, version) => (await repository.readManifest(model, version)) as unknown as ServableManifest,
    versionDir: (model, version) => repository.versionDir(model, version),
  };
}
