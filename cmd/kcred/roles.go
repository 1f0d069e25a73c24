package main

import (
	"github.com/kcred/kcred/plugin"
	"github.com/kcred/kcred/provider/acr"
	"github.com/kcred/kcred/provider/credhelper"
	"github.com/kcred/kcred/provider/dockerconfig"
	"github.com/kcred/kcred/provider/ecr"
	"github.com/kcred/kcred/provider/gcp"
	"github.com/kcred/kcred/provider/ocir"
	"github.com/kcred/kcred/provider/static"
)

// roles is the one place a provider is registered: each entry is selected by
// its name or an alias, as the binary's invoked name or `kcred plugin NAME`.
var roles = []plugin.Role{
	acr.Role,
	credhelper.Role,
	dockerconfig.Role,
	ecr.Role,
	gcp.Role,
	ocir.Role,
	static.Role,
}
