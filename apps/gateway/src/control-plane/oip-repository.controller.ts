import { Body, Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ServableError } from '@servable/contracts';
import { ControlPlane, type VersionView } from '@servable/persistence';
import { Access } from './access.decorator';
import { RepositoryIndexRequestDto, RepositoryLoadRequestDto } from './admin.dto';
import { ANONYMOUS, type AuthenticatedRequest } from './auth.guard';

/** Triton's repository index states, from the control plane's version states. */
const INDEX_STATE: Record<string, string> = { AVAILABLE: 'READY', START: 'LOADING', LOADING: 'LOADING', UNLOADING: 'UNLOADING' };

/** A version to load named in the request (`parameters.version`, a Servable extension); else the newest. */
function versionToLoad(named: number | undefined, versions: VersionView[], model: string): number {
  if (named !== undefined) return named;
  if (!versions.length) throw ServableError.notFound(`model "${model}" has no versions`);
  return Math.max(...versions.map((v) => v.version));
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
  @ApiBody({ type: RepositoryIndexRequestDto, required: false })
  async index(@Body() body: RepositoryIndexRequestDto) {
    const readyOnly = body.ready === true;
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
  @ApiBody({ type: RepositoryLoadRequestDto, required: false })
  async load(@Param('model') model: string, @Body() body: RepositoryLoadRequestDto, @Req() req: AuthenticatedRequest) {
    const { versions } = await this.cp.registry.getModel(model);
    const version = versionToLoad(body.parameters?.version, versions, model);
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
