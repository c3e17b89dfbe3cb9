import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ServableError } from '@servable/contracts';
import { ControlPlane, type VersionView } from '@servable/persistence';
import { Access } from './access.decorator';
import { ANONYMOUS, type AuthenticatedRequest } from './auth.guard';

/** Triton's repository index states, from the control plane's version states. */
const INDEX_STATE: Record<string, string> = { AVAILABLE: 'READY', START: 'LOADING', LOADING: 'LOADING', UNLOADING: 'UNLOADING' };

function optionalObject(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && !Buffer.isBuffer(body))) return (body as Record<string, unknown>) ?? {};
  throw ServableError.invalid('the body must be a JSON object');
}

/** A version to load named in the request (`parameters.version`, a Servable extension); else the newest. */
function versionToLoad(body: Record<string, unknown>, versions: VersionView[], model: string): number {
  const parameters = (typeof body['parameters'] === 'object' && body['parameters']) || {};
  const named = (parameters as Record<string, unknown>)['version'];
  if (named === undefined) {
    if (!versions.length) throw ServableError.notFound(`model "${model}" has no versions`);
    return Math.max(...versions.map((v) => v.version));
  }
  const version = Number(named);
  if (!Number.isInteger(version) || version <= 0) throw ServableError.invalid(`parameters.version must be a positive whole number, got ${JSON.stringify(named)}`);
  return version;
}

/**
 * The OIP model repository extension (Triton's /v2/repository), mapped onto the
 * control plane: load pins a version, unload releases the model's pins. A version
 * a label or rollout names stays loaded, as it would after an admin API unpin.
 * Same role as the admin API's pin (operator), and the same audit trail.
 */
@ApiTags('oip-v2')
@ApiBearerAuth()
@Controller('v2/repository')
@Access('operator')
export class OipRepositoryController {
  constructor(private readonly cp: ControlPlane) {}

  @Post('index')
  @HttpCode(200)
  @ApiOperation({ summary: 'Every model version with its state (READY, LOADING, UNLOADING, UNAVAILABLE); {"ready": true} lists only READY ones' })
  async index(@Body() body: unknown) {
    const readyOnly = optionalObject(body)['ready'] === true;
    const models = await this.cp.registry.listModels();
    return models
      .flatMap((m) =>
        m.versions.map((v) => {
          const state = INDEX_STATE[v.state] ?? 'UNAVAILABLE';
          return { name: m.name, version: String(v.version), state, ...(state === 'UNAVAILABLE' ? { reason: v.stateDetail ?? v.state } : {}) };
        }),
      )
      .filter((entry) => !readyOnly || entry.state === 'READY');
  }

  @Post('models/:model/load')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pin the newest version (or parameters.version) so the data plane loads it' })
  async load(@Param('model') model: string, @Body() body: unknown, @Req() req: AuthenticatedRequest) {
    const { versions } = await this.cp.registry.getModel(model);
    const version = versionToLoad(optionalObject(body), versions, model);
    await this.cp.registry.setPinned(model, version, true, (req.caller ?? ANONYMOUS).actor);
    return {};
  }

  @Post('models/:model/unload')
  @HttpCode(200)
  @ApiOperation({ summary: 'Release every pinned version of the model; versions a label or rollout names stay loaded' })
  async unload(@Param('model') model: string, @Req() req: AuthenticatedRequest) {
    const { versions } = await this.cp.registry.getModel(model);
    for (const v of versions.filter((x) => x.pinned)) await this.cp.registry.setPinned(model, v.version, false, (req.caller ?? ANONYMOUS).actor);
    return {};
  }
}
