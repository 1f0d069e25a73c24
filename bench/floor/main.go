// Command floor is the benchmark floor: the cheapest Go program that does
// what a credential plugin exec must do, reading stdin and writing stdout.
// A warm kcred exec is measured against it.
package main

import (
	"io"
	"os"
)

func main() {
	if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
		os.Exit(1)
	}
}
