import { Module } from '@nestjs/common';
import { DownstreamModule } from '../downstream/downstream.module';
import { ModelCatalog } from './model-catalog.service';
import { ModelInfoService } from './model-info.service';

@Module({ imports: [DownstreamModule], providers: [ModelCatalog, ModelInfoService], exports: [ModelCatalog, ModelInfoService] })
export class ModelsModule {}
