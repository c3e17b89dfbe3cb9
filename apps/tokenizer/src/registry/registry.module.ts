import { Module } from '@nestjs/common';
import { TokenizerRegistry } from './tokenizer-registry.service';

@Module({ providers: [TokenizerRegistry], exports: [TokenizerRegistry] })
export class RegistryModule {}
