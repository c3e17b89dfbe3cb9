import { Global, Injectable, Logger, Module, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ApiKeyService, ControlPlane, MetricsStore } from '@servable/persistence';
import { DownstreamModule } from '../downstream/downstream.module';
import { AdminController } from './admin.controller';
import { CatalogController } from './catalog.controller';
import { AuthGuard } from './auth.guard';
import { OipRepositoryController } from './oip-repository.controller';
import { OverviewService } from './overview.service';
import { Reconciler } from './reconciler.service';
import { RoutingTable } from './routing-table.service';

/**
 * Starts following the control plane once the app is up: the routing table is loaded
 * before the first request, and every change (from any replica) reloads it, drops
 * cached API keys and kicks the reconcile loop.
 */
@Injectable()
class ControlPlaneFollower implements OnApplicationBootstrap {
  private readonly logger = new Logger('ControlPlane');

  constructor(
    private readonly cp: ControlPlane,
    private readonly table: RoutingTable,
    private readonly reconciler: Reconciler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.table.refresh();
    await this.cp.changes.start(async (change) => {
      await this.table.refresh().catch((err: Error) => this.logger.warn(`routing table reload failed: ${err.message}`));
      this.cp.apiKeys.clearCache();
      if (change.kind !== 'state') void this.reconciler.kick();
    });
    this.reconciler.start();
  }
}

@Global()
@Module({})
export class ControlPlaneModule {
  static forRoot(cp: ControlPlane): DynamicModule {
    return {
      module: ControlPlaneModule,
      imports: [DownstreamModule],
      controllers: [AdminController, OipRepositoryController, CatalogController],
      providers: [
        { provide: ControlPlane, useValue: cp },
        { provide: ApiKeyService, useValue: cp.apiKeys },
        { provide: MetricsStore, useValue: cp.metrics },
        RoutingTable,
        Reconciler,
        OverviewService,
        ControlPlaneFollower,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [ControlPlane, ApiKeyService, MetricsStore, RoutingTable, Reconciler],
    };
  }
}
