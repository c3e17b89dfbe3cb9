import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ControlPlane } from '@servable/persistence';
import { Access } from '../control-plane/access.decorator';
import { pathId } from '../control-plane/admin-params';
import { ANONYMOUS, type AuthenticatedRequest } from '../control-plane/auth.guard';
import { CanaryRunInputDto } from './canary.dto';

/** Automated canary analysis (docs/canary.md): one call into CanaryService per route. */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/api/models/:model/canary-runs')
export class CanaryController {
  constructor(private readonly cp: ControlPlane) {}

  @Post()
  @Access('operator')
  @ApiOperation({ summary: 'Start a canary run: the canary takes each step\'s weight, and is promoted or rolled back by the analysis' })
  start(@Param('model') model: string, @Body() body: CanaryRunInputDto, @Req() req: AuthenticatedRequest) {
    return this.cp.canaries.start(model, body, (req.caller ?? ANONYMOUS).actor);
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
    return this.cp.canaries.get(model, pathId(id, 'run id'));
  }

  @Post(':id/abort')
  @Access('operator')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a running canary run: all traffic back to stable' })
  abort(@Param('model') model: string, @Param('id') id: string, @Req() req: AuthenticatedRequest) {
    return this.cp.canaries.abort(model, pathId(id, 'run id'), (req.caller ?? ANONYMOUS).actor);
  }
}
