package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// history makes a realistic run of writes and returns the number of audit entries it made.
func history(t *testing.T, s *Store) int64 {
	t.Helper()
	admin := must[User](t)(s.CreateUser(ctx, ActorSystem, User{Email: "admin@example.com", Name: "Ada", Role: RoleAdmin}, "hash"))
	ed := must[User](t)(s.CreateUser(ctx, admin.Email, User{Email: "ed@example.com", Role: RoleEditor}, "hash"))
	noErr(t, s.CreateSession(ctx, tokenHash("s"), ed.ID, time.Now().Add(time.Hour)))
	p := must[Product](t)(s.CreateProduct(ctx, ed.Email, Product{Name: "Pump <&> \"quoted\"", Manufacturer: "Acme"}))
	v := must[DeviceVersion](t)(s.CreateDeviceVersion(ctx, ed.Email, p.ID, "1.0", profileText))
	must[Assessment](t)(s.SetAssessment(ctx, ed.Email, Assessment{DeviceVersionID: v.ID, RequirementID: "r.one", Status: StatusInProgress, Owner: "Émile"}))
	must[Assessment](t)(s.SetAssessment(ctx, ed.Email, Assessment{DeviceVersionID: v.ID, RequirementID: "r.one", Status: StatusMet, DueDate: "2027-01-31"}))
	must[Evidence](t)(s.AddEvidence(ctx, ed.Email, EvidenceInput{DeviceVersionID: v.ID, Filename: "tm.pdf", Data: []byte("pdf"),
		Links: []Link{{Kind: LinkRequirement, TargetID: "r.one"}}}))
	must[User](t)(s.SetUserRole(ctx, admin.Email, ed.ID, RoleApprover))
	return 9
}

func TestAuditChain(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, _ Config) {
		rep := verifyOK(t, s)
		if rep.Entries != 0 || rep.LastHash != ZeroHash {
			t.Errorf("empty log report %+v", rep)
		}
		n := history(t, s)
		rep = verifyOK(t, s)
		all := must[[]AuditEntry](t)(s.AuditRecent(ctx, 0, 0))
		if rep.Entries != n || rep.LastSeq != n || int64(len(all)) != n || rep.LastHash != all[0].Hash {
			t.Fatalf("report %+v, %d entries", rep, len(all))
		}
		// Newest first, contiguous, chained.
		for i, e := range all {
			if e.Seq != n-int64(i) {
				t.Errorf("entry %d has seq %d", i, e.Seq)
			}
			if i+1 < len(all) && e.PrevHash != all[i+1].Hash {
				t.Errorf("seq %d prev_hash does not chain", e.Seq)
			}
			if e.At.Location() != time.UTC || time.Since(e.At) > time.Minute {
				t.Errorf("seq %d at %v", e.Seq, e.At)
			}
		}
		first := all[len(all)-1]
		if first.PrevHash != ZeroHash || first.Actor != ActorSystem || first.Action != "user.create" || first.Before != nil {
			t.Errorf("first entry %+v", first)
		}
		// Pin the documented hash input, computed independently of auditHash.
		input := ZeroHash + "\n" + `{"action":"user.create","actor":"system","after":` + string(first.After) +
			`,"at":"` + first.At.Format(time.RFC3339Nano) + `","before":null,"entity":"user","entity_id":"1","seq":1}`
		sum := sha256.Sum256([]byte(input))
		if hex.EncodeToString(sum[:]) != first.Hash {
			t.Errorf("hash of seq 1 does not follow the documented formula")
		}
		// Paging.
		page := must[[]AuditEntry](t)(s.AuditRecent(ctx, 2, 1))
		if len(page) != 2 || page[0].Seq != n-1 || page[1].Seq != n-2 {
			t.Errorf("page %+v", page)
		}
		if f := must[[]AuditEntry](t)(s.AuditFor(ctx, "user", "2", 1)); len(f) != 1 || f[0].Action != "user.set_role" {
			t.Errorf("AuditFor limit 1: %+v", f)
		}
		if f := must[[]AuditEntry](t)(s.AuditFor(ctx, "user", "404", 0)); len(f) != 0 {
			t.Errorf("AuditFor unknown: %+v", f)
		}
	})
}

func dropAuditTriggers(t *testing.T, s *Store) {
	t.Helper()
	if s.Dialect() == DialectSQLite {
		rawExec(t, s, "DROP TRIGGER audit_log_no_update")
		rawExec(t, s, "DROP TRIGGER audit_log_no_delete")
		return
	}
	rawExec(t, s, "DROP TRIGGER audit_log_no_update_delete ON audit_log")
}

func TestAuditTamper(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(t *testing.T, s *Store)
		seq     int64
		problem string
	}{
		{"edited actor", func(t *testing.T, s *Store) {
			rawExec(t, s, "UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 4")
		}, 4, "hash mismatch"},
		{"edited after_json", func(t *testing.T, s *Store) {
			rawExec(t, s, "UPDATE audit_log SET after_json = replace(after_json, 'met', 'not-met') WHERE seq = 7")
		}, 7, "hash mismatch"},
		{"edited time", func(t *testing.T, s *Store) {
			rawExec(t, s, "UPDATE audit_log SET at = ? WHERE seq = 2", time.Now().Add(-time.Hour))
		}, 2, "hash mismatch"},
		{"edited and rehashed", func(t *testing.T, s *Store) {
			e, err := scanAudit(s.rdb.QueryRow(s.rebind("SELECT "+auditCols+" FROM audit_log WHERE seq = ?"), 4))
			noErr(t, err)
			e.Actor = "mallory@example.com"
			rawExec(t, s, "UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 4", e.Actor, auditHash(&e))
		}, 5, "prev_hash mismatch"},
		{"deleted", func(t *testing.T, s *Store) {
			rawExec(t, s, "DELETE FROM audit_log WHERE seq = 5")
		}, 6, "seq gap"},
		{"deleted first", func(t *testing.T, s *Store) {
			rawExec(t, s, "DELETE FROM audit_log WHERE seq = 1")
		}, 2, "seq gap"},
		{"deleted and renumbered", func(t *testing.T, s *Store) {
			rawExec(t, s, "DELETE FROM audit_log WHERE seq = 5")
			for seq := 6; seq <= 9; seq++ {
				rawExec(t, s, "UPDATE audit_log SET seq = ? WHERE seq = ?", seq-1, seq)
			}
		}, 5, "prev_hash mismatch"},
		{"reordered", func(t *testing.T, s *Store) {
			rawExec(t, s, "UPDATE audit_log SET seq = 1000 WHERE seq = 3")
			rawExec(t, s, "UPDATE audit_log SET seq = 3 WHERE seq = 4")
			rawExec(t, s, "UPDATE audit_log SET seq = 4 WHERE seq = 1000")
		}, 3, "prev_hash mismatch"},
	}
	for _, d := range testDBs() {
		for _, c := range cases {
			t.Run(d.name+"/"+c.name, func(t *testing.T) {
				s := open(t, d.fresh(t))
				noErr(t, s.Migrate(ctx))
				history(t, s)
				verifyOK(t, s)
				dropAuditTriggers(t, s)
				c.tamper(t, s)
				rep, err := s.VerifyAudit(ctx)
				noErr(t, err)
				if rep.OK || rep.BrokenSeq != c.seq || !strings.Contains(rep.Problem, c.problem) {
					t.Errorf("report %+v, want break at %d with %q", rep, c.seq, c.problem)
				}
			})
		}
	}
}

// TestConcurrentWriters appends from 8 goroutines through two Store instances (as two processes
// would) and checks that the chain stays whole.
func TestConcurrentWriters(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, cfg Config) {
		s2 := open(t, cfg)
		v := newVersion(t, s, "pump", "1")
		const goroutines, writes = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, goroutines*writes)
		for g := range goroutines {
			st := []*Store{s, s2}[g%2]
			wg.Go(func() {
				actor := fmt.Sprintf("u%d@example.com", g)
				for i := range writes {
					var err error
					if i%2 == 0 {
						_, err = st.CreateProduct(ctx, actor, Product{Name: fmt.Sprintf("p-%d-%d", g, i)})
					} else {
						_, err = st.SetAssessment(ctx, actor, Assessment{DeviceVersionID: v.ID, RequirementID: fmt.Sprintf("r.%d.%d", g, i), Status: StatusMet})
					}
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		rep := verifyOK(t, s)
		if want := int64(goroutines*writes + 2); rep.Entries != want {
			t.Errorf("%d entries, want %d", rep.Entries, want)
		}
	})
}

func TestTwoStoresShareData(t *testing.T) {
	eachDB(t, func(t *testing.T, s *Store, cfg Config) {
		s2 := open(t, cfg)
		noErr(t, s2.CheckSchema(ctx))
		p := must[Product](t)(s.CreateProduct(ctx, "a@example.com", Product{Name: "pump"}))
		if got := must[Product](t)(s2.Product(ctx, p.ID)); got != p {
			t.Errorf("s2 sees %+v, want %+v", got, p)
		}
		v := must[DeviceVersion](t)(s2.CreateDeviceVersion(ctx, "b@example.com", p.ID, "1", profileText))
		if got := must[DeviceVersion](t)(s.DeviceVersion(ctx, v.ID)); got != v {
			t.Errorf("s sees %+v", got)
		}
		rep := verifyOK(t, s)
		rep2 := verifyOK(t, s2)
		if rep.Entries != 2 || rep != rep2 {
			t.Errorf("reports %+v %+v", rep, rep2)
		}
	})
}
