package registrytest

import (
	"fmt"
	"net/http"
)

// basicAuth serves next only to requests whose Basic credentials accept
// allows (or, with anonymousPull, to reads without credentials); others get
// the 401 Basic challenge ECR sends, with the registry API's error body.
func basicAuth(next http.Handler, accept func(user, pass string) bool, anonymousPull bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read := r.Method == http.MethodGet || r.Method == http.MethodHead
		if anonymousPull && read && r.Header.Get("Authorization") == "" {
			next.ServeHTTP(w, r)
			return
		}
		if user, pass, ok := r.BasicAuth(); ok && accept(user, pass) {
			next.ServeHTTP(w, r)
			return
		}
		realm := fmt.Sprintf("%s://%s/", r.Header.Get("X-Forwarded-Proto"), r.Host)
		w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", realm))
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required")
	})
}
