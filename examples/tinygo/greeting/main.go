// greeting: GET /greeting?name=X answers "<greeting>, <X>!" with config key
// "greeting" (Hello when absent) and X defaulting to "world".
package main

import "l8.dev/l8"

func init() {
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		greeting, found, err := l8.ConfigGet("greeting")
		if err != nil {
			return l8.ErrorResponse(err)
		}
		if !found {
			greeting = "Hello"
		}
		name, _ := req.QueryParam("name")
		if name == "" {
			name = "world"
		}
		return l8.Text(200, greeting+", "+name+"!")
	})
}

func main() {}
