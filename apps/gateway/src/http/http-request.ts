import { MethodNotAllowedException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ServableError } from '@servable/contracts';
import type { NamedVersion } from '../request-metadata/request-metadata';

export type HttpRequest = FastifyRequest;

/** Path parameters of /v1/models/{model}[/versions/{v}|/labels/{l}]. */
export interface ModelPath {
  model: string;
  version?: string;
  label?: string;
}

/** The version or label the path names; a version that is not a positive whole number names nothing that exists. */
const VERB = /:(classify|predict|regress|tokenize)$/i;

/**
 * GET on a POST route (`/v1/models/spam:predict`) reaches the status route, whose last
 * parameter then holds `spam:predict`: answered 405, not "model spam:predict not found".
 */
export function refuseGetOfVerb(path: ModelPath): void {
  const verb = VERB.exec(path.label ?? path.version ?? path.model)?.[1];
  if (verb) throw new MethodNotAllowedException(`:${verb} takes POST, with a JSON body`);
}

export function namedVersion(path: ModelPath): NamedVersion {
  const named: NamedVersion = {};
  if (path.version !== undefined) named.version = versionNumber(path.version);
  if (path.label !== undefined) named.label = path.label;
  return named;
}

function versionNumber(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0) throw ServableError.notFound(`model version "${text}" not found: versions are positive whole numbers`);
  return Number(text);
}
