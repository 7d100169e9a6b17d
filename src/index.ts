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
export { WebSocketPlugin } from './ws/plugin.js';
export { WebSocketConnection, ReadyState } from './ws/connection.js';
export type {
  SendResult,
  WebSocketPluginOptions,
  WebSocketStats,
  WSCloseHandler,
  WSConnection,
  WSHandler,
  WSMessage,
  WSMessageHandler,
  WSMiddleware,
  WSRoomManager,
  RefusalReason,
} from './ws/types.js';
export { CloseCode } from './protocol/close-codes.js';
export { ProtocolError, ProtocolErrors, type ProtocolErrorCode } from './protocol/errors.js';
