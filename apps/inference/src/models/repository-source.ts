import { statSync } from 'node:fs';
import { ModelRepository } from '@servable/model-repository';
import type { ModelSource } from './manifest';

/**
 * The shared model repository loader, seen through the few calls inference makes. A root that is
 * not a directory fails start-up: the repository's listing reads a missing folder as an empty
 * one, and a mistyped MODEL_REPOSITORY would otherwise give a replica that is up, ready and serves
 * nothing.
 */
export function repositorySource(root: string): ModelSource {
  const repository = new ModelRepository(root);
  const stat = statSync(repository.root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) throw new Error(`MODEL_REPOSITORY ${repository.root} ${stat ? 'is not a directory' : 'does not exist'}`);
  return {
    listModels: () => repository.listModels(),
    listVersions: (model) => repository.listVersions(model),
    readManifest: (model, version) => repository.readManifest(model, version),
    versionDir: (model, version) => repository.versionDir(model, version),
  };
}
