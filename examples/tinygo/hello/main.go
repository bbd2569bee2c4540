// hello: GET /hello logs "hello called" and answers "Hello from Go!".
package main

import "l8.dev/l8"

func init() {
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		l8.Log(l8.LevelInfo, "hello called")
		return l8.Text(200, "Hello from Go!")
	})
}

// main is required by Go but never runs: a reactor module only runs init.
func main() {}
