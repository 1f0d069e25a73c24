// Command sleep is the only program in the node test's images: the pod
// sandbox's pause process and every test container. It blocks until it is
// told to stop, so a Running container stays Running.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}
