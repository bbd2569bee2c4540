// The L8 guest SDK for AssemblyScript: `import { http, Request, Response, state } from "l8"`.
// See ../README.md.
// The abort, trace, seed and console replacements the build points at (--use).
import "./runtime";
export { Field } from "./field";
export { Request, Response, Handler, http } from "./http";
export { Message, MessageHandler, subscriber } from "./subscriber";
export { ErrorCode, HostError, Result } from "./error";
export { state } from "./state";
export { pubsub } from "./pubsub";
export { config } from "./config";
export { invoke } from "./invoke";
export { UnlockStatus, lock, unlockStatusName } from "./lock";
export { sequencer } from "./sequencer";
export { LogLevel, log } from "./log";
export { io } from "./io";
export { decodeBytes as decodeUTF8, utf8Bytes as encodeUTF8 } from "./utf8";
