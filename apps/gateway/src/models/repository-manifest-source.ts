import { ModelRepository } from '@servable/model-repository';
import type { ManifestSource, VersionManifest } from './version-manifest';

/** The shared model repository reader (validated servable.json), seen through the calls the gateway makes. */
export function repositoryManifestSource(root: string): ManifestSource {
  const repository = new ModelRepository(root);
  return {
    listModels: () => repository.listModels(),
    listVersions: (model) => repository.listVersions(model),
    readManifest: async (model, version): Promise<VersionManifest> => repository.readManifest(model, version),
  };
}
