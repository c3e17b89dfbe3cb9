import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { CatalogModelView } from '@servable/contracts/admin-api';
import { ControlPlane } from '@servable/persistence';
import { Access } from './access.decorator';

/**
 * What a client key may see of the registry: enough to pick versions and call them (the
 * console's playground works for the client role), but not artefact paths, checksums or
 * evaluation, which stay behind GET /models (operator).
 */
@ApiTags('admin')
@ApiBearerAuth()
@Controller('admin/api')
export class CatalogController {
  constructor(private readonly cp: ControlPlane) {}

  @Get('catalog')
  @Access('client')
  @ApiOperation({ summary: 'Every model with its versions: state, labels, pin, tokenizer hash, max_length and class labels' })
  async catalog(): Promise<CatalogModelView[]> {
    return (await this.cp.registry.listModels()).map((m) => ({
      name: m.name,
      versions: m.versions.map((v) => ({
        version: v.version,
        state: v.state,
        labels: v.labels,
        pinned: v.pinned,
        tokenizerHash: v.tokenizerHash,
        maxLength: v.maxLength,
        classLabels: v.classLabels,
      })),
    }));
  }
}
