import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ServableError } from '@servable/contracts';
import type { CanaryRunInput } from '@servable/contracts/admin-api';
import { ControlPlane } from '@servable/persistence';
import { Access } from '../control-plane/access.decorator';
import { ANONYMOUS, type AuthenticatedRequest } from '../control-plane/auth.guard';

function runId(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) === 0) throw ServableError.invalid(`run id must be a positive whole number, got "${text}"`);
  return Number(text);
}

/** Automated canary analysis (docs/canary.md): one call into CanaryService per route. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/api/models/:model/canary-runs')
export class CanaryController {
  constructor(private readonly cp: ControlPlane) {}

  @Post()
  @Access('operator')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['canary', 'steps', 'stepSeconds', 'gates'],
      properties: {
        canary: { type: 'integer' },
        steps: { type: 'array', items: { type: 'number' }, example: [10, 50, 100] },
        stepSeconds: { type: 'integer' },
        gates: {
          type: 'object',
          required: ['maxErrorRate', 'maxP99Ratio', 'minAgreement', 'minRequests'],
          properties: {
            maxErrorRate: { type: 'number' },
            maxP99Ratio: { type: 'number' },
            minAgreement: { type: 'number' },
            minRequests: { type: 'integer' },
            p99ToleranceMs: { type: 'number' },
          },
        },
        sticky: { type: 'boolean' },
        mirrorShare: { type: 'number' },
        maxExtensions: { type: 'integer' },
      },
    },
  })
  @ApiOperation({ summary: 'Start a canary run: the canary takes each step\'s weight, and is promoted or rolled back by the analysis' })
  start(@Param('model') model: string, @Body() body: unknown, @Req() req: AuthenticatedRequest) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ServableError.invalid('the body must be a JSON object');
    return this.cp.canaries.start(model, body as CanaryRunInput, (req.caller ?? ANONYMOUS).actor);
  }

  @Get()
  @Access('operator')
  @ApiOperation({ summary: 'The model\'s canary runs, newest first (at most 100)' })
  list(@Param('model') model: string) {
    return this.cp.canaries.list(model);
  }

  @Get(':id')
  @Access('operator')
  get(@Param('model') model: string, @Param('id') id: string) {
    return this.cp.canaries.get(model, runId(id));
  }

  @Post(':id/abort')
  @Access('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a running canary run: all traffic back to stable' })
  abort(@Param('model') model: string, @Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.cp.canaries.abort(model, runId(id), (req.caller ?? ANONYMOUS).actor);
  }
}
