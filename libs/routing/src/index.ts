export {
  decideRoute,
  type Rollout,
  type CohortRule,
  type ShadowConfig,
  type RouteRequest,
  type RouteDecision,
  type RouteReason,
  type HeaderBag,
} from './route';
export { routePoint, canaryThreshold, RING_SIZE } from './route-point';
