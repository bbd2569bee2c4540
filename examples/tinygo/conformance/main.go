// conformance implements test/conformance/README.md: every guest language
// builds this function and must give byte-identical answers.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"l8.dev/l8"
)

// calls is the module-level counter of GET /conf/global.
var calls int

func init() {
	l8.HandleHTTP(route)
	l8.HandleMessage(onMessage)
}

func route(req *l8.Request) *l8.Response {
	path, method := req.Path, req.Method
	switch {
	case strings.HasPrefix(path, "/conf/echo"):
		return echo(req)
	case path == "/conf/unicode" && method == "GET":
		return l8.Text(200, "héllo wörld ✓ 日本語 🚀")
	case path == "/conf/unicode" && method == "POST":
		text := req.Text()
		return l8.Text(200, strconv.Itoa(utf8.RuneCountInString(text))+":"+text)
	case strings.HasPrefix(path, "/conf/state/"):
		if resp := state(req, strings.TrimPrefix(path, "/conf/state/")); resp != nil {
			return resp
		}
	case strings.HasPrefix(path, "/conf/config/") && method == "GET":
		value, found, err := l8.ConfigGet(strings.TrimPrefix(path, "/conf/config/"))
		if err != nil {
			return hostError(err)
		}
		if !found {
			return plain(404, "absent")
		}
		return plain(200, value)
	case strings.HasPrefix(path, "/conf/publish/") && method == "POST":
		return publish(req, strings.TrimPrefix(path, "/conf/publish/"))
	case strings.HasPrefix(path, "/conf/invoke/"):
		return invoke(req, strings.TrimPrefix(path, "/conf/invoke/"))
	case strings.HasPrefix(path, "/conf/lock/"):
		if resp := lock(req, strings.TrimPrefix(path, "/conf/lock/")); resp != nil {
			return resp
		}
	case strings.HasPrefix(path, "/conf/sequence/") && method == "POST":
		store, ok := req.QueryParam("store")
		if !ok {
			store = "default"
		}
		id, err := l8.NextID(store, strings.TrimPrefix(path, "/conf/sequence/"))
		if err != nil {
			return hostError(err)
		}
		return plain(200, strconv.FormatUint(id, 10))
	case path == "/conf/trap" && method == "GET":
		panic("conformance: trap requested by GET /conf/trap")
	case path == "/conf/stdout" && method == "GET":
		fmt.Println("conformance stdout line")
		fmt.Fprintln(os.Stderr, "conformance stderr line")
		return plain(200, "printed")
	case path == "/conf/log" && method == "GET":
		l8.Log(l8.LevelInfo, "conformance log line")
		return plain(200, "logged")
	case path == "/conf/big" && method == "GET":
		return big(req)
	case strings.HasPrefix(path, "/conf/status/") && method == "GET":
		if code, err := strconv.Atoi(strings.TrimPrefix(path, "/conf/status/")); err == nil {
			return plain(code, "status "+strconv.Itoa(code))
		}
	case path == "/conf/global" && method == "GET":
		calls++
		return plain(200, strconv.Itoa(calls))
	case path == "/conf/spin" && method == "GET":
		for {
			// A runaway guest: no host calls, no allocation; only the host can stop it.
		}
	case path == "/conf/grow" && method == "GET":
		return grow(req)
	}
	return plain(404, "no route "+method+" "+path)
}

// plain is a response without headers: where the suite specifies no
// content-type, every language sends none.
func plain(status int, body string) *l8.Response {
	return &l8.Response{Status: status, Body: []byte(body)}
}

// hostError maps a host error to its status with body "<code>: <message>"
// and content-type text/plain.
func hostError(err error) *l8.Response {
	return l8.ErrorResponse(err)
}

func echo(req *l8.Request) *l8.Response {
	resp := &l8.Response{Status: 200, Body: req.Body}
	resp.Headers.Add("x-method", req.Method)
	resp.Headers.Add("x-path", req.Path)
	resp.Headers.Add("x-query", req.Query)
	resp.Headers.Add("x-body-length", strconv.Itoa(len(req.Body)))
	for _, h := range req.Headers {
		if strings.HasPrefix(h.Name, "x-test-") {
			resp.Headers.Add(h.Name, h.Value)
		}
	}
	contentType, ok := req.Headers.Lookup("content-type")
	if !ok {
		contentType = "application/octet-stream"
	}
	resp.Headers.Add("content-type", contentType)
	return resp
}

// state serves GET/PUT/DELETE /conf/state/<key>?store=<s>; nil for other methods.
func state(req *l8.Request, key string) *l8.Response {
	store, ok := req.QueryParam("store")
	if !ok {
		store = "default"
	}
	switch req.Method {
	case "GET":
		value, found, err := l8.StateGet(store, key)
		if err != nil {
			return hostError(err)
		}
		if !found {
			return plain(404, "missing")
		}
		return &l8.Response{Status: 200, Headers: l8.Fields{{Name: "content-type", Value: "application/octet-stream"}}, Body: value}
	case "PUT":
		if err := l8.StateSet(store, key, req.Body); err != nil {
			return hostError(err)
		}
		return &l8.Response{Status: 204}
	case "DELETE":
		if err := l8.StateDelete(store, key); err != nil {
			return hostError(err)
		}
		return &l8.Response{Status: 204}
	}
	return nil
}

// lock serves POST (try-lock), PUT (keep-alive) and DELETE (unlock)
// /conf/lock/<resource>?owner=<o>&expire=<s>&store=<st>; nil for other methods.
func lock(req *l8.Request, resource string) *l8.Response {
	store, ok := req.QueryParam("store")
	if !ok {
		store = "default"
	}
	owner, _ := req.QueryParam("owner")
	switch req.Method {
	case "POST", "PUT":
		expire, err := secondsParam(req, "expire", 10)
		if err != nil {
			return plain(400, err.Error())
		}
		if req.Method == "POST" {
			taken, err := l8.TryLock(store, resource, owner, expire)
			if err != nil {
				return hostError(err)
			}
			if !taken {
				return plain(409, "busy")
			}
			return plain(200, "taken")
		}
		alive, err := l8.KeepAlive(store, resource, owner, expire)
		if err != nil {
			return hostError(err)
		}
		if !alive {
			return plain(409, "lost")
		}
		return plain(200, "alive")
	case "DELETE":
		status, err := l8.Unlock(store, resource, owner)
		if err != nil {
			return hostError(err)
		}
		return plain(200, status.String())
	}
	return nil
}

// secondsParam reads a u32 query parameter written as decimal digits only
// (fallback when absent), so every language accepts exactly the same strings.
func secondsParam(req *l8.Request, name string, fallback uint32) (uint32, error) {
	raw, ok := req.QueryParam(name)
	if !ok {
		return fallback, nil
	}
	digits := raw != ""
	for i := 0; i < len(raw); i++ {
		digits = digits && raw[i] >= '0' && raw[i] <= '9'
	}
	n, err := strconv.ParseUint(raw, 10, 32)
	if !digits || err != nil {
		return 0, errors.New("query parameter '" + name + "' must be an integer from 0 to 4294967295, got '" + raw + "'")
	}
	return uint32(n), nil
}

func publish(req *l8.Request, topic string) *l8.Response {
	broker, ok := req.QueryParam("broker")
	if !ok {
		broker = "default"
	}
	var metadata l8.Fields
	for _, h := range req.Headers {
		if name, found := strings.CutPrefix(h.Name, "x-meta-"); found {
			metadata.Add(name, h.Value)
		}
	}
	id, err := l8.Publish(broker, topic, req.Body, metadata)
	if err != nil {
		return hostError(err)
	}
	return plain(200, id)
}

func invoke(req *l8.Request, target string) *l8.Response {
	method, ok := req.QueryParam("method")
	if !ok {
		method = req.Method
	}
	path, ok := req.QueryParam("path")
	if !ok {
		path = "/"
	}
	call := &l8.Request{Method: method, Path: path, Body: req.Body}
	for _, h := range req.Headers {
		if strings.HasPrefix(h.Name, "x-test-") {
			call.Headers.Add(h.Name, h.Value)
		}
	}
	answer, err := l8.Invoke(target, call)
	if err != nil {
		return hostError(err)
	}
	resp := &l8.Response{Status: answer.Status, Body: answer.Body}
	for _, h := range answer.Headers {
		if strings.HasPrefix(h.Name, "x-test-") {
			resp.Headers.Add(h.Name, h.Value)
		}
	}
	resp.Headers.Add("x-invoked", target)
	return resp
}

func big(req *l8.Request) *l8.Response {
	size, err := intParam(req, "size")
	if err != nil {
		return plain(400, err.Error())
	}
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i % 251)
	}
	return &l8.Response{Status: 200, Body: body}
}

func grow(req *l8.Request) *l8.Response {
	mb, err := intParam(req, "mb")
	if err != nil {
		return plain(400, err.Error())
	}
	block := make([]byte, mb<<20)
	// Touch every page, then read it back so no compiler can drop the writes.
	for i := 0; i < len(block); i += 4096 {
		block[i] = byte(i >> 12)
	}
	for i := 0; i < len(block); i += 4096 {
		if block[i] != byte(i>>12) {
			panic("conformance: memory did not keep what was written")
		}
	}
	return plain(200, "grew "+strconv.Itoa(mb))
}

func intParam(req *l8.Request, name string) (int, error) {
	raw, _ := req.QueryParam(name)
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, errors.New("query parameter '" + name + "' must be a non-negative integer, got '" + raw + "'")
	}
	return n, nil
}

func onMessage(msg *l8.Message) error {
	if msg.Metadata.Get("fail") == "always" {
		return errors.New("asked to fail: " + msg.ID)
	}
	return l8.StateSet("default", "received/"+msg.Topic+"/"+msg.ID, msg.Data)
}

func main() {}
