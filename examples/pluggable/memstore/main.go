// Command memstore is a Dapr pluggable component written in Go: an in-memory state store
// (with ETags, TTLs and transactions) and an in-memory pub/sub broker, served over gRPC on
// a Unix socket. Any runtime that speaks Dapr's pluggable component protocol
// (dapr.proto.components.v1) can use it: Dapr itself, or L8.
//
// The socket is <folder>/memstore.sock, where <folder> is L8_COMPONENTS_SOCKETS_FOLDER,
// else DAPR_COMPONENTS_SOCKETS_FOLDER, else /tmp/dapr-components-sockets; the runtime
// names the component type after the socket file ("memstore"). -socket overrides the path.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"

	"l8.dev/examples/pluggable/gen/components"
)

func defaultSocket() string {
	folder := os.Getenv("L8_COMPONENTS_SOCKETS_FOLDER")
	if folder == "" {
		folder = os.Getenv("DAPR_COMPONENTS_SOCKETS_FOLDER")
	}
	if folder == "" {
		folder = "/tmp/dapr-components-sockets"
	}
	return filepath.Join(folder, "memstore.sock")
}

func main() {
	socket := flag.String("socket", defaultSocket(), "Unix socket to listen on; its file name (without extension) is the component type")
	flag.Parse()
	if err := serve(*socket); err != nil {
		log.Fatalf("memstore: %v", err)
	}
}

func serve(socket string) error {
	if err := os.MkdirAll(filepath.Dir(socket), 0o755); err != nil {
		return fmt.Errorf("cannot create the socket folder: %w", err)
	}
	// A socket file left by a process that died is in the way; nothing listens on it.
	if err := os.Remove(socket); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot remove the old socket %s: %w", socket, err)
	}
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", socket, err)
	}

	server := grpc.NewServer()
	store := newStateStore()
	components.RegisterStateStoreServer(server, store)
	components.RegisterTransactionalStateStoreServer(server, &transactional{store: store})
	components.RegisterPubSubServer(server, newBroker())
	// Runtimes discover which component services a socket offers through reflection.
	reflection.Register(server)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-stop
		server.GracefulStop()
	}()
	log.Printf("memstore: serving state store and pub/sub on %s", socket)
	err = server.Serve(listener)
	os.Remove(socket)
	return err
}
