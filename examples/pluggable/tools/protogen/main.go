// Command protogen generates the Go stubs of Dapr's pluggable component protocol from
// the .proto files in the repository's proto/ folder, without protoc: protocompile (a
// protobuf compiler written in Go) parses them, and the standard plugins protoc-gen-go
// and protoc-gen-go-grpc (declared as tools in go.mod) write the code, exactly as protoc
// would run them. Everything comes from the Go module proxy, so the build needs only Go.
//
//	go run ./tools/protogen -proto ../../proto -out .
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// The Dapr files to generate, and the Go package they become in this module (their own
// go_package points into github.com/dapr/dapr, which this module does not depend on).
var sources = []string{
	"dapr/proto/components/v1/common.proto",
	"dapr/proto/components/v1/state.proto",
	"dapr/proto/components/v1/pubsub.proto",
}

const (
	module    = "l8.dev/examples/pluggable"
	goPackage = module + "/gen/components;components"
)

func main() {
	protoRoot := flag.String("proto", "../../proto", "folder the .proto import paths are relative to")
	out := flag.String("out", ".", "module root; files are written under gen/")
	flag.Parse()
	if err := run(*protoRoot, *out); err != nil {
		fmt.Fprintln(os.Stderr, "protogen:", err)
		os.Exit(1)
	}
}

func run(protoRoot, out string) error {
	compiler := protocompile.Compiler{
		Resolver:       protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{protoRoot}}),
		SourceInfoMode: protocompile.SourceInfoStandard,
	}
	files, err := compiler.Compile(context.Background(), sources...)
	if err != nil {
		return fmt.Errorf("compiling %s: %w", strings.Join(sources, ", "), err)
	}

	// A CodeGeneratorRequest lists every file the generated ones depend on, dependencies first.
	var all []*descriptorpb.FileDescriptorProto
	seen := map[string]bool{}
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		all = append(all, protodesc.ToFileDescriptorProto(fd))
	}
	for _, f := range files {
		add(f)
	}

	params := []string{"module=" + module}
	for _, source := range sources {
		params = append(params, "M"+source+"="+goPackage)
	}
	request := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: sources,
		Parameter:      proto.String(strings.Join(params, ",")),
		ProtoFile:      all,
	}
	for _, plugin := range []string{"protoc-gen-go", "protoc-gen-go-grpc"} {
		if err := generate(plugin, request, out); err != nil {
			return err
		}
	}
	return nil
}

// generate runs one plugin the way protoc does: the request on stdin, the response on stdout.
func generate(plugin string, request *pluginpb.CodeGeneratorRequest, out string) error {
	input, err := proto.Marshal(request)
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "tool", plugin)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go tool %s: %w: %s", plugin, err, stderr.String())
	}
	response := &pluginpb.CodeGeneratorResponse{}
	if err := proto.Unmarshal(stdout.Bytes(), response); err != nil {
		return fmt.Errorf("%s answered something that is not a CodeGeneratorResponse: %w", plugin, err)
	}
	if response.Error != nil {
		return fmt.Errorf("%s: %s", plugin, response.GetError())
	}
	for _, file := range response.File {
		path := filepath.Join(out, filepath.FromSlash(file.GetName()))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(file.GetContent()), 0o644); err != nil {
			return err
		}
	}
	return nil
}
