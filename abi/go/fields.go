package l8

// Field is one name/value pair of a [Fields] list.
type Field struct {
	Name  string
	Value string
}

// Fields is an ordered list of name/value pairs: HTTP headers and message
// metadata. Names may repeat and order is kept. Lookups compare names
// ASCII-case-insensitively, as HTTP does; the host delivers request header
// names in lower case.
type Fields []Field

// Get returns the value of the first field named name, or "" if there is none.
func (f Fields) Get(name string) string {
	v, _ := f.Lookup(name)
	return v
}

// Lookup returns the value of the first field named name and whether there was one.
func (f Fields) Lookup(name string) (string, bool) {
	for _, field := range f {
		if equalFoldASCII(field.Name, name) {
			return field.Value, true
		}
	}
	return "", false
}

// Values returns the values of every field named name, in order.
func (f Fields) Values(name string) []string {
	var values []string
	for _, field := range f {
		if equalFoldASCII(field.Name, name) {
			values = append(values, field.Value)
		}
	}
	return values
}

// Add appends a field, keeping any others with the same name.
func (f *Fields) Add(name, value string) {
	*f = append(*f, Field{Name: name, Value: value})
}

// Set replaces every field named name with one field holding value, at the
// position of the first one (or at the end if there was none). Like Del, it
// builds a new list, so slices sharing the old one are not changed.
func (f *Fields) Set(name, value string) {
	kept := make(Fields, 0, len(*f)+1)
	set := false
	for _, field := range *f {
		if equalFoldASCII(field.Name, name) {
			if set {
				continue
			}
			field = Field{Name: name, Value: value}
			set = true
		}
		kept = append(kept, field)
	}
	if !set {
		kept = append(kept, Field{Name: name, Value: value})
	}
	*f = kept
}

// Del removes every field named name.
func (f *Fields) Del(name string) {
	kept := make(Fields, 0, len(*f))
	for _, field := range *f {
		if !equalFoldASCII(field.Name, name) {
			kept = append(kept, field)
		}
	}
	*f = kept
}

// equalFoldASCII compares ASCII letters case-insensitively and every other
// byte exactly (HTTP field names are ASCII tokens; no Unicode tables needed).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
