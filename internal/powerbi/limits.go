package powerbi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// hourlyLimits are the admin APIs' documented limits per tenant and hour.
// A client spends at most these; past them it waits for the budget to refill
// rather than earn a 429 that blocks the tenant's other tools too.
var hourlyLimits = map[string]int{
	"admin/workspaces/modified":   30,
	"admin/workspaces/getInfo":    500,
	"admin/workspaces/scanStatus": 10000,
	"admin/workspaces/scanResult": 500,
	"admin/groups":                50,
}

type limits map[string]*rate.Limiter

func newLimits() limits {
	l := limits{}
	for call, perHour := range hourlyLimits {
		l[call] = rate.NewLimiter(rate.Every(time.Hour/time.Duration(perHour)), perHour)
	}
	return l
}

// wait takes one call of path's budget, waiting while it is spent (never past ctx).
func (l limits) wait(ctx context.Context, path string) error {
	for call, lim := range l {
		if path == call || strings.HasPrefix(path, call+"/") {
			if err := lim.Wait(ctx); err != nil {
				return fmt.Errorf("Power BI allows %d %s calls an hour and this run has spent them: %w", hourlyLimits[call], call, err)
			}
		}
	}
	return nil
}
