package provider

import (
	"context"
	"sync"

	"github.com/dbtexposures/terraform-provider-dbtexposures/internal/tableau"
)

// openTableau is every Tableau client this process made, so that Shutdown can
// sign them out: a PAT holds one session, and leaving it open until it expires
// would hold the user's session slot.
var openTableau struct {
	mu      sync.Mutex
	clients []*tableau.Client
}

func registerTableau(c *tableau.Client) {
	openTableau.mu.Lock()
	defer openTableau.mu.Unlock()
	openTableau.clients = append(openTableau.clients, c)
}

// Shutdown signs out of Tableau. main calls it when Terraform stops the provider.
func Shutdown(ctx context.Context) {
	openTableau.mu.Lock()
	clients := openTableau.clients
	openTableau.clients = nil
	openTableau.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func(c *tableau.Client) {
			defer wg.Done()
			_ = c.SignOut(ctx) // best effort: the session expires on its own otherwise
		}(c)
	}
	wg.Wait()
}
