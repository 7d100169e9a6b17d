// The public surface of nextrush-v2: everything users import comes from here, nothing else.
export type * from './core/types.js';
export { createApp } from './core/app.js';
export { HttpError, type HttpErrorOptions } from './core/errors.js';
export { Router, compilePath, type RouteMatch } from './core/router.js';
export { compose } from './core/compose.js';
export type { ErrorBody } from './core/error-response.js';
export type {
  AdapterHost,
  AdapterStats,
  BroadcastAdapter,
  BroadcastData,
  ClusterStats,
  NodeStats,
} from './ws/adapter.js';
export { LocalAdapter } from './ws/adapter.js';
export type { HistoryLimits } from './ws/recovery/history.js';
export type { SharedHistory, StoredEntry, StoredRead } from './ws/recovery/shared.js';
export { RedisAdapter } from './ws/adapters/redis.js';
export type {
  IoRedisClientLike,
  NodeRedisClientLike,
  RedisAdapterOptions,
  RedisClientLike,
} from './ws/adapters/redis.js';
export { ClusterAdapter } from './ws/adapters/cluster.js';
export type { ClusterAdapterOptions, ClusterPrimary, ClusterPrimaryOptions } from './ws/adapters/cluster.js';
export { WebSocketPlugin } from './ws/plugin.js';
export { ReadyState } from './ws/connection/lifecycle.js';
export { WsErrors, WsCloses, WsRefusals } from './ws/errors.js';
export type { WsError, WsErrorCode, WsCloseCode, WsRefusalCode } from './ws/errors.js';
export type {
  SendResult,
  WebSocketPluginOptions,
  WebSocketStats,
  WSCloseHandler,
  WSConnection,
  WSContext,
  WSHandler,
  WSMessage,
  WSMessageHandler,
  WSMiddleware,
  WSRoomManager,
  RefusalReason,
  PerMessageDeflateOptions,
  CompressionStats,
  RecoveryOptions,
  RecoveryStats,
} from './ws/types.js';
export { rateLimit, wsRateLimit, type RateLimitOptions } from './ws/limits/middleware.js';
export type {
  ClientLimit,
  ClientLimitsOptions,
  ClientRefusalEvent,
  LimitStats,
  MessageLimit,
  MessageLimitEvent,
  MessageRateOptions,
} from './ws/limits/types.js';
export { CloseCode } from './protocol/close-codes.js';
export { ProtocolError, ProtocolErrors, type ProtocolErrorCode } from './protocol/errors.js';
