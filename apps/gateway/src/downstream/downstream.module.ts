import { Module } from '@nestjs/common';
import { DownstreamService } from './downstream.service';

@Module({ providers: [DownstreamService], exports: [DownstreamService] })
export class DownstreamModule {}
