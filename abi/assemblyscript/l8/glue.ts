// The module's ABI exports. The L8 transform (../transform.js) adds this file as an
// entry, renames its exports to the canonical names (`__l8_handle` becomes
// `l8:faas/http-handler@0.2.0#handle`, ...) and drops the ones whose handler the function
// does not register. Internal to the SDK.
import {
  beginCall, endCall, liftBytes, liftFields, liftString, lowerFields, lowerString, realloc, retain, retainResultBody,
} from "./abi";
import { Request, httpHandler } from "./http";
import { Message, messageHandler } from "./subscriber";
// Defines the abort, trace, seed and console replacements the build points at.
import "./runtime";
import "./io";

export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  return realloc(oldPtr, oldSize, align, newSize);
}

export function __l8_handle(
  methodPtr: usize, methodLen: usize,
  pathPtr: usize, pathLen: usize,
  queryPtr: usize, queryLen: usize,
  headersPtr: usize, headersLen: usize,
  bodyPtr: usize, bodyLen: usize,
): usize {
  beginCall();
  const request = new Request(
    liftString(methodPtr, methodLen),
    liftString(pathPtr, pathLen),
    liftString(queryPtr, queryLen),
    liftFields(headersPtr, headersLen),
    liftBytes(bodyPtr, bodyLen),
  );
  const response = httpHandler()(request);
  const status = response.status;
  if (status < 100 || status > 599) {
    abort("the handler returned HTTP status " + status.toString() + "; statuses must be 100-599");
  }
  // `response`: 0 status (u16), 4 headers (ptr, len), 12 body (ptr, len).
  const area = retain(new ArrayBuffer(20));
  store<u16>(area, <u16>status);
  lowerFields(response.headers, area + 4);
  store<usize>(area, retainResultBody(response.body), 12);
  store<usize>(area, <usize>response.body.byteLength, 16);
  return area;
}

export function __l8_handle_post(resultPtr: usize): void {
  endCall();
}

export function __l8_on_message(
  idPtr: usize, idLen: usize,
  brokerPtr: usize, brokerLen: usize,
  topicPtr: usize, topicLen: usize,
  dataPtr: usize, dataLen: usize,
  metadataPtr: usize, metadataLen: usize,
): usize {
  beginCall();
  const message = new Message(
    liftString(idPtr, idLen),
    liftString(brokerPtr, brokerLen),
    liftString(topicPtr, topicLen),
    liftBytes(dataPtr, dataLen),
    liftFields(metadataPtr, metadataLen),
  );
  const error = messageHandler()(message);
  // `result<_, string>`: 0 discriminant (u8), 4 error (ptr, len).
  const area = retain(new ArrayBuffer(12));
  if (error === null) {
    store<u8>(area, 0);
  } else {
    store<u8>(area, 1);
    lowerString(error, area + 4);
  }
  return area;
}

export function __l8_on_message_post(resultPtr: usize): void {
  endCall();
}
