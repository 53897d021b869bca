// Package demo seeds a store with the example devices and plausible progress, so that a new user
// of `vigil serve --demo` sees a living portfolio in one command.
package demo

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/vigil-med/vigil/applicability"
	"github.com/vigil-med/vigil/catalog"
	"github.com/vigil-med/vigil/examples"
	"github.com/vigil-med/vigil/profile"
	"github.com/vigil-med/vigil/readiness"
	"github.com/vigil-med/vigil/store"
)

// Actor is recorded in the audit trail for seeded data.
const Actor = "demo-seed"

// Seed adds every example device as a product with one version, and marks a share of each
// device's applicable requirements met or in progress (the same each time). It does nothing when
// products already exist, and reports how many products it created.
func Seed(ctx context.Context, st *store.Store, cat *catalog.Catalog) (int, error) {
	existing, err := st.ListProducts(ctx)
	if err != nil {
		return 0, err
	}
	if len(existing) > 0 {
		return 0, nil
	}
	n := 0
	for i, ex := range examples.All() {
		p, err := profile.Parse(ex.Name, ex.Data)
		if err != nil {
			return n, fmt.Errorf("demo: %w", err)
		}
		prod, err := st.CreateProduct(ctx, Actor, store.Product{Name: p.Name, Manufacturer: p.Manufacturer.Name, Description: p.Device.Description})
		if err != nil {
			return n, fmt.Errorf("demo: product %s: %w", p.Name, err)
		}
		v, err := st.CreateDeviceVersion(ctx, Actor, prod.ID, p.Version, string(ex.Data))
		if err != nil {
			return n, fmt.Errorf("demo: version of %s: %w", p.Name, err)
		}
		res, err := applicability.Evaluate(cat, p)
		if err != nil {
			return n, err
		}
		// Devices progress at different paces: 15% to 75% met.
		metShare := 15 + (i*23)%61
		var batch []store.Assessment
		for _, q := range res.Applicable() {
			h := bucket(q.ID, p.Name)
			var status string
			switch {
			case h < metShare:
				status = readiness.Met
			case h < metShare+15:
				status = readiness.InProgress
			case h < metShare+18:
				status = readiness.NotMet
			default:
				continue
			}
			batch = append(batch, store.Assessment{DeviceVersionID: v.ID, RequirementID: q.ID, Status: status, Owner: owners[h%len(owners)],
				Justification: "Seeded for the demonstration portfolio."})
		}
		if len(batch) > 0 {
			if _, err := st.SetAssessments(ctx, Actor, batch); err != nil {
				return n, fmt.Errorf("demo: assessments of %s: %w", p.Name, err)
			}
		}
		n++
	}
	return n, nil
}

var owners = []string{"Product Security", "Regulatory Affairs", "Quality", "Software Engineering"}

// bucket maps a requirement of a device to 0..99, stably.
func bucket(reqID, device string) int {
	h := fnv.New32a()
	h.Write([]byte(device + "/" + reqID))
	return int(h.Sum32() % 100)
}
