package l8

// The module's exports (GOOS=wasip1 only). Every Go function exports both
// entry points, because Go keeps every //go:wasmexport function; the one a
// function does not register answers with an error that says so.

import "unsafe"

var (
	// Result areas live in package variables: their addresses must stay
	// valid after the export returns, until the host read them.
	handleResult  [5]uint32 // response: status, headers ptr/len, body ptr/len
	messageResult [3]uint32 // result<_, string>: tag, ptr, len

	// What the result areas point into, kept reachable until cabi_post_*.
	keptResponse *Response
	keptHeaders  []uint32
	keptText     string
)

func releaseResult() {
	keptResponse, keptHeaders, keptText = nil, nil, ""
}

//go:wasmexport l8:faas/http-handler@0.2.0#handle
func exportHandle(methodPtr, methodLen, pathPtr, pathLen, queryPtr, queryLen, headersPtr, headersLen, bodyPtr, bodyLen uint32) uint32 {
	releaseResult()
	req := &Request{
		Method:  takeString(methodPtr, methodLen),
		Path:    takeString(pathPtr, pathLen),
		Query:   takeString(queryPtr, queryLen),
		Headers: takeFields(headersPtr, headersLen),
		Body:    take(bodyPtr, bodyLen),
	}
	release(0)
	resp := serveHTTP(req)
	status := resp.status()
	headers := fieldWords(resp.Headers)
	keptResponse, keptHeaders = resp, headers
	handleResult = [5]uint32{status, sliceAddr(headers), uint32(len(resp.Headers)), sliceAddr(resp.Body), uint32(len(resp.Body))}
	return uint32(uintptr(unsafe.Pointer(&handleResult)))
}

//go:wasmexport cabi_post_l8:faas/http-handler@0.2.0#handle
func postHandle(uint32) { releaseResult() }

//go:wasmexport l8:faas/subscriber@0.2.0#on-message
func exportOnMessage(idPtr, idLen, brokerPtr, brokerLen, topicPtr, topicLen, dataPtr, dataLen, metadataPtr, metadataLen uint32) uint32 {
	releaseResult()
	msg := &Message{
		ID:       takeString(idPtr, idLen),
		Broker:   takeString(brokerPtr, brokerLen),
		Topic:    takeString(topicPtr, topicLen),
		Data:     take(dataPtr, dataLen),
		Metadata: takeFields(metadataPtr, metadataLen),
	}
	release(0)
	if failed, text := deliver(msg); failed {
		keptText = text
		messageResult = [3]uint32{1, stringAddr(text), uint32(len(text))}
	} else {
		messageResult = [3]uint32{0, 0, 0}
	}
	return uint32(uintptr(unsafe.Pointer(&messageResult)))
}

//go:wasmexport cabi_post_l8:faas/subscriber@0.2.0#on-message
func postOnMessage(uint32) { releaseResult() }
