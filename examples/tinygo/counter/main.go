// counter: POST /counter/:name adds 1 to state key counter/<name> (decimal,
// missing = 0) in store "default" and answers the new value.
package main

import (
	"strconv"

	"l8.dev/l8"
)

func init() {
	l8.HandleHTTP(func(req *l8.Request) *l8.Response {
		key := "counter/" + req.Param("name")
		stored, found, err := l8.StateGet("default", key)
		if err != nil {
			return l8.ErrorResponse(err)
		}
		count := uint64(0)
		if found {
			if count, err = strconv.ParseUint(string(stored), 10, 64); err != nil {
				return l8.Text(500, "state key "+key+" does not hold a decimal count: '"+string(stored)+"'")
			}
		}
		next := strconv.FormatUint(count+1, 10)
		if err := l8.StateSet("default", key, []byte(next)); err != nil {
			return l8.ErrorResponse(err)
		}
		return l8.Text(200, next)
	})
}

func main() {}
