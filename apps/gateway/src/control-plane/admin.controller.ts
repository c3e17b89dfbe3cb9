import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, UseInterceptors } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ServableError } from '@servable/contracts';
import type { ModelView } from '@servable/contracts/admin-api';
import { ControlPlane, extractApiKey } from '@servable/persistence';
import { DownstreamService } from '../downstream/downstream.service';
import { Access } from './access.decorator';
import { pathId, positiveInt, time } from './admin-params';
import { ApiKeyInputDto, LabelsInputDto, PinInputDto, RolloutInputDto } from './admin.dto';
import { ANONYMOUS, type AuthenticatedRequest, type Caller } from './auth.guard';
import { checkModelLoads } from './model-check';
import { MultipartFilesInterceptor, UploadedFileFields } from './multipart-files.interceptor';
import { OverviewService } from './overview.service';

const MAX_UPLOAD_FILES = 64;

function callerOf(req: AuthenticatedRequest): Caller {
  return req.caller ?? ANONYMOUS;
}

/**
 * The control plane's REST API under /admin/api (docs/admin-api.md). Thin: each
 * route is one call into @servable/persistence, which validates, writes the change
 * and its audit event in one transaction, and announces it to every replica.
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/api')
export class AdminController {
  constructor(
    private readonly cp: ControlPlane,
    private readonly overviews: OverviewService,
    private readonly downstream: DownstreamService,
  ) {}

  /** The registry's view of a model, with each inference replica's state of every version. */
  private withReplicas(view: ModelView): ModelView {
    return { ...view, versions: view.versions.map((v) => ({ ...v, replicas: this.downstream.replicaStates(view.name, v.version) })) };
  }

  private async modelView(model: string): Promise<ModelView> {
    return this.withReplicas(await this.cp.registry.getModel(model));
  }

  /**
   * Public, so a console can ask "is auth on?" without a key and get a 200 (a 401 would be
   * a browser-console error on every visit). With a key it answers who the key is, or 401.
   */
  @Get('session')
  @Access('public')
  @ApiOperation({ summary: 'Who the key is (role), or without a key whether auth is on; auth "off" in dev mode' })
  async session(@Req() req: AuthenticatedRequest) {
    if (req.caller) return { auth: 'off', role: 'admin', key: null };
    const presented = extractApiKey(req.headers);
    if (!presented) return { auth: 'on', role: null, key: null };
    const key = await this.cp.apiKeys.verify(presented);
    return { auth: 'on', role: key.role, key };
  }

  @Get('overview')
  @Access('client')
  @ApiOperation({ summary: 'Health of gateway, tokenizer and inference, and per model the last hour: requests/s, error rate, p99' })
  overview() {
    return this.overviews.overview();
  }

  @Get('models')
  @Access('operator')
  @ApiOperation({ summary: 'Every model with its versions, states, labels, tokenizer and evaluation metrics' })
  async listModels() {
    return (await this.cp.registry.listModels()).map((m) => this.withReplicas(m));
  }

  @Get('models/:model')
  @Access('operator')
  getModel(@Param('model') model: string) {
    return this.modelView(model);
  }

  @Post('models/:model/versions')
  @Access('admin')
  @UseInterceptors(
    MultipartFilesInterceptor(
      [
        { name: 'files', maxCount: MAX_UPLOAD_FILES },
        { name: 'tokenizer', maxCount: 1 },
      ],
      { files: MAX_UPLOAD_FILES + 1 },
    ),
  )
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['files', 'tokenizer'],
      properties: {
        files: { type: 'array', items: { type: 'string', format: 'binary' }, description: 'servable.json, model.json and its weight files' },
        tokenizer: { type: 'string', format: 'binary', description: 'tokenizer.json; must hash to servable.json tokenizer.hash' },
      },
    },
  })
  @ApiOperation({ summary: 'Register a version: validated (tokenizer hash, signature, loads and answers a warm-up) before anything is written' })
  async register(@Param('model') model: string, @UploadedFileFields() uploaded: UploadedFileFields | undefined, @Req() req: AuthenticatedRequest) {
    const files = uploaded?.files ?? [];
    const tokenizer = uploaded?.tokenizer?.[0];
    if (files.length === 0) throw ServableError.invalid('the upload has no model files: send them as multipart field "files"');
    if (!tokenizer) throw ServableError.invalid('the upload has no tokenizer.json: send it as multipart field "tokenizer"');
    return this.cp.registry.registerVersion(
      { model, files: files.map((f) => ({ name: f.originalname, bytes: f.buffer })), tokenizer: tokenizer.buffer },
      checkModelLoads,
      callerOf(req).actor,
    );
  }

  @Put('models/:model/labels')
  @Access('operator')
  @ApiOperation({ summary: 'Move, add (version) or remove (null) labels atomically; a label only points at an AVAILABLE version' })
  async setLabels(@Param('model') model: string, @Body() body: LabelsInputDto, @Req() req: AuthenticatedRequest) {
    await this.cp.registry.setLabels(model, body.labels, callerOf(req).actor);
    return this.modelView(model);
  }

  @Put('models/:model/versions/:version/pin')
  @Access('operator')
  @ApiOperation({ summary: 'Load (pinned: true) or release (false) a version; a version named by a label or rollout stays loaded' })
  setPinned(@Param('model') model: string, @Param('version') version: string, @Body() body: PinInputDto, @Req() req: AuthenticatedRequest) {
    return this.cp.registry.setPinned(model, pathId(version, 'version'), body.pinned, callerOf(req).actor);
  }

  @Get('models/:model/rollout')
  @Access('operator')
  async getRollout(@Param('model') model: string) {
    return { rollout: await this.cp.rollouts.get(model) };
  }

  @Put('models/:model/rollout')
  @Access('operator')
  @ApiOperation({ summary: 'Replace the rollout: stable, canary + weight, cohort rules, sticky, shadow + share' })
  setRollout(@Param('model') model: string, @Body() body: RolloutInputDto, @Req() req: AuthenticatedRequest) {
    return this.cp.rollouts.set(model, body, callerOf(req).actor);
  }

  @Delete('models/:model/rollout')
  @Access('operator')
  @HttpCode(204)
  async clearRollout(@Param('model') model: string, @Req() req: AuthenticatedRequest) {
    await this.cp.rollouts.clear(model, callerOf(req).actor);
  }

  @Post('models/:model/rollout/promote')
  @Access('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'The canary becomes stable (the stable label moves to it); canary cleared' })
  promote(@Param('model') model: string, @Req() req: AuthenticatedRequest) {
    return this.cp.rollouts.promote(model, callerOf(req).actor);
  }

  @Post('models/:model/rollout/rollback')
  @Access('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'All traffic back to stable: canary cleared' })
  rollback(@Param('model') model: string, @Req() req: AuthenticatedRequest) {
    return this.cp.rollouts.rollback(model, callerOf(req).actor);
  }

  @Get('metrics')
  @Access('operator')
  @ApiOperation({ summary: 'Time series per model version from the 10 s buckets: requests/s, errors, p50/p95/p99, batch size, cache hits, shadow agreement' })
  async metrics(@Query() q: Record<string, string | undefined>) {
    const now = Date.now();
    const to = time(q['to'], 'to', now);
    const from = time(q['from'], 'from', to.getTime() - 3_600_000);
    const span = (to.getTime() - from.getTime()) / 1000;
    const step = q['step'] ? positiveInt(q['step'], 'step') : Math.max(10, Math.ceil(span / 120 / 10) * 10);
    const version = q['version'] ? positiveInt(q['version'], 'version') : undefined;
    const series = await this.cp.metrics.query({ from, to, stepSeconds: step, model: q['model'] || undefined, version });
    return { from: from.toISOString(), to: to.toISOString(), step, series };
  }

  @Get('audit')
  @Access('operator')
  @ApiOperation({ summary: 'Audit events, newest first, filtered by actor, action, target (prefix) and time; keyset paging with beforeId' })
  audit(@Query() q: Record<string, string | undefined>) {
    return this.cp.audit.list({
      actor: q['actor'] || undefined,
      action: q['action'] || undefined,
      target: q['target'] || undefined,
      from: q['from'] ? time(q['from'], 'from', 0) : undefined,
      to: q['to'] ? time(q['to'], 'to', 0) : undefined,
      limit: q['limit'] ? positiveInt(q['limit'], 'limit') : undefined,
      beforeId: q['beforeId'] ? positiveInt(q['beforeId'], 'beforeId') : undefined,
    });
  }

  @Get('api-keys')
  @Access('admin')
  listKeys() {
    return this.cp.apiKeys.list();
  }

  @Post('api-keys')
  @Access('admin')
  @ApiOperation({ summary: 'Create a key; the answer is the only time the key is shown' })
  createKey(@Body() body: ApiKeyInputDto, @Req() req: AuthenticatedRequest) {
    return this.cp.apiKeys.create(body, callerOf(req).actor);
  }

  @Delete('api-keys/:id')
  @Access('admin')
  revokeKey(@Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.cp.apiKeys.revoke(pathId(id, 'id'), callerOf(req).actor);
  }
}
