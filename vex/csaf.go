package vex

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gocsaf/csaf/v3/csaf"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The CSAF product IDs Vigil writes: the device, each component, and each component as a part
// of the device (a default_component_of relationship), which is what the statuses name.
const csafDeviceID = "DEVICE"

func csafComponentID(i int) string { return fmt.Sprintf("C%d", i+1) }

func csafPartID(comp string) string { return comp + ":" + csafDeviceID }

// CSAF remediation category of action statements: a mitigation is the general category for
// "what to do" that is not (necessarily) a vendor fix.
const csafActionCategory = csaf.CSAFRemediationCategoryMitigation

// encodeCSAF writes a CSAF 2.0 document of category csaf_vex. It is checked against the CSAF
// JSON schema (gocsaf's ValidateCSAF) and the mandatory tests of the VEX profile
// (CSAF 2.0 section 6.1.27) before it is returned.
func encodeCSAF(d *Document, o Options) ([]byte, error) {
	if len(d.Statements) == 0 {
		return nil, errors.New("vex: csaf: a CSAF VEX document needs at least one statement (CSAF 2.0 test 6.1.27.11)")
	}
	now := o.now(d)
	ts := now.Format(time.RFC3339)
	p := d.Product
	author := o.author(d)
	vendor := cmp.Or(p.Supplier, author)
	productName := cmp.Or(p.Name, p.ID, "device")
	fullName := strings.TrimSpace(productName + " " + p.Version)

	// Product tree: vendor > product name > product version > the device; components as full
	// product names; each component in the device as a relationship.
	dev := &csaf.FullProductName{Name: str(fullName), ProductID: pid(csafDeviceID)}
	if strings.HasPrefix(p.ID, "pkg:") {
		purl := csaf.PURL(p.ID)
		dev.ProductIdentificationHelper = &csaf.ProductIdentificationHelper{PURL: &purl}
	}
	leaf := &csaf.Branch{Category: branchCat(csaf.CSAFBranchCategoryProductName), Name: str(productName), Product: dev}
	if p.Version != "" {
		leaf.Product = nil
		leaf.Branches = csaf.Branches{{Category: branchCat(csaf.CSAFBranchCategoryProductVersion), Name: str(p.Version), Product: dev}}
	}
	tree := &csaf.ProductTree{Branches: csaf.Branches{{Category: branchCat(csaf.CSAFBranchCategoryVendor), Name: str(vendor), Branches: csaf.Branches{leaf}}}}

	stmts := append([]Statement(nil), d.Statements...)
	sortStatements(stmts)
	compID := map[string]string{} // component key -> product ID of the component in the device
	var fpns csaf.FullProductNames
	var rels csaf.Relationships
	for _, s := range stmts {
		key := s.Component.Key()
		if key == "" || compID[key] != "" {
			continue
		}
		cid := csafComponentID(len(fpns))
		name := cmp.Or(s.Component.Name, key)
		if s.Component.Version != "" {
			name += " " + s.Component.Version
		}
		fpn := &csaf.FullProductName{Name: str(name), ProductID: pid(cid)}
		if s.Component.PURL != "" {
			purl := csaf.PURL(s.Component.PURL)
			fpn.ProductIdentificationHelper = &csaf.ProductIdentificationHelper{PURL: &purl}
		}
		fpns = append(fpns, fpn)
		part := csafPartID(cid)
		cat := csaf.CSAFRelationshipCategoryDefaultComponentOf
		rels = append(rels, &csaf.Relationship{
			Category:                  &cat,
			FullProductName:           &csaf.FullProductName{Name: str(name + " as part of " + fullName), ProductID: pid(part)},
			ProductReference:          pid(cid),
			RelatesToProductReference: pid(csafDeviceID),
		})
		compID[key] = part
	}
	if len(fpns) > 0 {
		tree.FullProductNames = &fpns
		tree.RelationShips = &rels
	}

	// One vulnerability per ID, the statuses of its products, and the flags (justifications),
	// impact threats (impact statements) and remediations (action statements) that explain them.
	var vulns csaf.Vulnerabilities
	counts := map[Status]int{}
	for start := 0; start < len(stmts); {
		end := start + 1
		for end < len(stmts) && stmts[end].Vulnerability == stmts[start].Vulnerability {
			end++
		}
		group := stmts[start:end]
		start = end
		first := group[0]
		v := &csaf.Vulnerability{ProductStatus: &csaf.ProductStatus{}}
		aliases := map[string]bool{}
		for _, s := range group {
			for _, a := range s.Aliases {
				aliases[a] = true
			}
		}
		delete(aliases, first.Vulnerability)
		ids := append([]string{first.Vulnerability}, sortedSet(aliases)...)
		for _, id := range ids {
			if isCVE(id) && v.CVE == nil {
				cve := csaf.CVE(id)
				v.CVE = &cve
				continue
			}
			sys, _ := databaseOf(id)
			v.IDs = append(v.IDs, &csaf.VulnerabilityID{SystemName: str(sys), Text: str(id)})
		}
		for _, id := range ids {
			sys, url := databaseOf(id)
			v.References = append(v.References, &csaf.Reference{ReferenceCategory: str(string(csaf.CSAFReferenceCategoryExternal)), Summary: str(sys + " - " + id), URL: str(url)})
		}
		desc := ""
		for _, s := range group {
			desc = cmp.Or(desc, strings.TrimSpace(s.Description))
		}
		if desc == "" {
			_, url := databaseOf(first.Vulnerability)
			desc = "See " + url + "."
		}
		v.Notes = csaf.Notes{{NoteCategory: noteCat(csaf.CSAFNoteCategoryDescription), Title: str("Vulnerability description"), Text: str(desc)}}
		flags := map[Justification]*csaf.Products{}
		threats := map[string]*csaf.Products{}
		remeds := map[string]*csaf.Products{}
		var flagOrder []Justification
		var threatOrder, remedOrder []string
		when := map[string]time.Time{} // flag/threat/remediation -> latest statement time
		for _, s := range group {
			id := csafDeviceID
			if key := s.Component.Key(); key != "" {
				id = compID[key]
			}
			ref := pid(id)
			ps := v.ProductStatus
			counts[s.Status]++
			switch s.Status {
			case NotAffected:
				ps.KnownNotAffected = appendProduct(ps.KnownNotAffected, ref)
				if s.Justification != "" {
					if flags[s.Justification] == nil {
						flags[s.Justification] = &csaf.Products{}
						flagOrder = append(flagOrder, s.Justification)
					}
					*flags[s.Justification] = append(*flags[s.Justification], ref)
					later(when, "f"+string(s.Justification), s.Timestamp)
				}
				if t := strings.TrimSpace(s.ImpactStatement); t != "" {
					if threats[t] == nil {
						threats[t] = &csaf.Products{}
						threatOrder = append(threatOrder, t)
					}
					*threats[t] = append(*threats[t], ref)
					later(when, "t"+t, s.Timestamp)
				}
			case Affected:
				ps.KnownAffected = appendProduct(ps.KnownAffected, ref)
				t := strings.TrimSpace(s.ActionStatement)
				if remeds[t] == nil {
					remeds[t] = &csaf.Products{}
					remedOrder = append(remedOrder, t)
				}
				*remeds[t] = append(*remeds[t], ref)
				later(when, "r"+t, s.Timestamp)
			case Fixed:
				ps.Fixed = appendProduct(ps.Fixed, ref)
			case UnderInvestigation:
				ps.UnderInvestigation = appendProduct(ps.UnderInvestigation, ref)
			}
		}
		for _, j := range flagOrder {
			label := csaf.FlagLabel(j)
			v.Flags = append(v.Flags, &csaf.Flag{Label: &label, ProductIds: flags[j], Date: str(when["f"+string(j)].UTC().Format(time.RFC3339))})
		}
		for _, t := range threatOrder {
			cat := csaf.CSAFThreatCategoryImpact
			v.Threats = append(v.Threats, &csaf.Threat{Category: &cat, Details: str(t), ProductIds: threats[t], Date: str(when["t"+t].UTC().Format(time.RFC3339))})
		}
		for _, t := range remedOrder {
			cat := csafActionCategory
			v.Remediations = append(v.Remediations, &csaf.Remediation{Category: &cat, Details: str(t), ProductIds: remeds[t], Date: str(when["r"+t].UTC().Format(time.RFC3339))})
		}
		vulns = append(vulns, v)
	}

	// Document metadata.
	var summary []string
	for _, st := range Statuses {
		if n := counts[st]; n > 0 {
			summary = append(summary, fmt.Sprintf("%d %s", n, strings.ReplaceAll(string(st), "_", " ")))
		}
	}
	trackingID := o.ID
	if trackingID == "" {
		h := sha256.New()
		_ = json.NewEncoder(h).Encode(vulns)
		trackingID = "VIGIL-VEX-" + idSafe(productName)
		if p.Version != "" {
			trackingID += "-" + idSafe(p.Version)
		}
		trackingID += "-" + hex.EncodeToString(h.Sum(nil))[:8]
	}
	namespace := cmp.Or(strings.TrimSpace(o.Namespace), "urn:vigil:publisher")
	version := csaf.RevisionNumber("1")
	status := csaf.CSAFTrackingStatusFinal
	tid := csaf.TrackingID(trackingID)
	category := csaf.DocumentCategory("csaf_vex")
	csafVersion := csaf.CSAFVersion20
	pubCat := csaf.CSAFCategoryVendor
	lang := csaf.Lang("en")
	engine := &csaf.Engine{Name: str("Vigil")}
	if o.Tool != "" {
		name, ver, _ := strings.Cut(o.Tool, " ")
		engine = &csaf.Engine{Name: str(name)}
		if ver != "" {
			engine.Version = str(ver)
		}
	}
	adv := &csaf.Advisory{
		Document: &csaf.Document{
			Category:    &category,
			CSAFVersion: &csafVersion,
			Lang:        &lang,
			Publisher:   &csaf.DocumentPublisher{Category: &pubCat, Name: str(author), Namespace: str(namespace)},
			Title:       str("VEX for " + fullName),
			Notes: csaf.Notes{{NoteCategory: noteCat(csaf.CSAFNoteCategorySummary), Title: str("Summary"),
				Text: str(fmt.Sprintf("Vulnerability Exploitability eXchange (VEX) statements for %s: %s, on %d vulnerabilities.", fullName, strings.Join(summary, ", "), len(vulns)))}},
			Tracking: &csaf.Tracking{
				ID:                 &tid,
				Status:             &status,
				Version:            &version,
				InitialReleaseDate: str(ts),
				CurrentReleaseDate: str(ts),
				RevisionHistory:    csaf.Revisions{{Date: str(ts), Number: &version, Summary: str("Initial version.")}},
				Generator:          &csaf.Generator{Date: str(ts), Engine: engine},
			},
		},
		ProductTree:     tree,
		Vulnerabilities: vulns,
	}
	if err := adv.Validate(); err != nil {
		return nil, fmt.Errorf("vex: csaf: %w", err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(adv); err != nil {
		return nil, fmt.Errorf("vex: csaf: %w", err)
	}
	if problems, err := ValidateCSAF(buf.Bytes()); err != nil {
		return nil, fmt.Errorf("vex: csaf: %w", err)
	} else if len(problems) > 0 {
		return nil, fmt.Errorf("vex: csaf: the document Vigil wrote is not valid CSAF (please report this): %s", strings.Join(problems, "; "))
	}
	return buf.Bytes(), nil
}

// ValidateCSAF checks a CSAF document against the CSAF 2.0 JSON schema (gocsaf's ValidateCSAF,
// with the schema embedded in gocsaf, formats asserted) and, for category csaf_vex, against the
// mandatory tests of the VEX profile (CSAF 2.0 section 6.1.27: a product tree; vulnerabilities,
// each with notes, a product status and an ID; an impact statement for each known_not_affected
// product and an action statement for each known_affected one) and test 6.1.1 (every product ID
// referenced is defined). It returns the problems found; err is for a document that is not JSON.
func ValidateCSAF(data []byte) ([]string, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	problems, err := csaf.ValidateCSAF(inst)
	if err != nil {
		return nil, err
	}
	var doc csafIn
	if err := json.Unmarshal(data, &doc); err != nil {
		return append(problems, "cannot read the document: "+err.Error()), nil
	}
	return append(problems, doc.vexProfileProblems()...), nil
}

// csafIn is a CSAF 2.0 document as far as VEX reading needs it. (gocsaf's own model cannot be
// used to read: it models product_groups and group_ids as objects where the schema has arrays.)
type csafIn struct {
	Document struct {
		Category  string `json:"category"`
		Publisher struct {
			Name string `json:"name"`
		} `json:"publisher"`
		Tracking struct {
			ID                 string `json:"id"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
	} `json:"document"`
	ProductTree *struct {
		Branches         []csafBranch  `json:"branches"`
		FullProductNames []csafProduct `json:"full_product_names"`
		Relationships    []struct {
			Category        string      `json:"category"`
			FullProductName csafProduct `json:"full_product_name"`
			ProductRef      string      `json:"product_reference"`
			RelatesToRef    string      `json:"relates_to_product_reference"`
		} `json:"relationships"`
		ProductGroups []struct {
			GroupID    string   `json:"group_id"`
			ProductIDs []string `json:"product_ids"`
		} `json:"product_groups"`
	} `json:"product_tree"`
	Vulnerabilities []struct {
		CVE   string `json:"cve"`
		Title string `json:"title"`
		IDs   []struct {
			SystemName string `json:"system_name"`
			Text       string `json:"text"`
		} `json:"ids"`
		Notes []struct {
			Category string `json:"category"`
			Text     string `json:"text"`
		} `json:"notes"`
		ProductStatus *struct {
			FirstAffected      []string `json:"first_affected"`
			FirstFixed         []string `json:"first_fixed"`
			Fixed              []string `json:"fixed"`
			KnownAffected      []string `json:"known_affected"`
			KnownNotAffected   []string `json:"known_not_affected"`
			LastAffected       []string `json:"last_affected"`
			Recommended        []string `json:"recommended"`
			UnderInvestigation []string `json:"under_investigation"`
		} `json:"product_status"`
		Flags        []csafNote `json:"flags"`
		Threats      []csafNote `json:"threats"`
		Remediations []csafNote `json:"remediations"`
	} `json:"vulnerabilities"`
}

type csafBranch struct {
	Branches []csafBranch `json:"branches"`
	Product  *csafProduct `json:"product"`
}

type csafProduct struct {
	Name   string `json:"name"`
	ID     string `json:"product_id"`
	Helper *struct {
		PURL string `json:"purl"`
	} `json:"product_identification_helper"`
}

func (p csafProduct) purl() string {
	if p.Helper == nil {
		return ""
	}
	return p.Helper.PURL
}

// csafNote is a flag (Label), threat or remediation (Category, Details) with the products it
// is about.
type csafNote struct {
	Label      string   `json:"label"`
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	Date       string   `json:"date"`
	ProductIDs []string `json:"product_ids"`
	GroupIDs   []string `json:"group_ids"`
}

// defined returns the products of the tree by ID, and the product groups.
func (d *csafIn) defined() (map[string]csafProduct, map[string][]string) {
	prods := map[string]csafProduct{}
	groups := map[string][]string{}
	t := d.ProductTree
	if t == nil {
		return prods, groups
	}
	var walk func(bs []csafBranch)
	walk = func(bs []csafBranch) {
		for _, b := range bs {
			if b.Product != nil && b.Product.ID != "" {
				prods[b.Product.ID] = *b.Product
			}
			walk(b.Branches)
		}
	}
	walk(t.Branches)
	for _, f := range t.FullProductNames {
		prods[f.ID] = f
	}
	for _, r := range t.Relationships {
		prods[r.FullProductName.ID] = r.FullProductName
	}
	for _, g := range t.ProductGroups {
		groups[g.GroupID] = g.ProductIDs
	}
	return prods, groups
}

func (n csafNote) products(groups map[string][]string) []string {
	out := append([]string(nil), n.ProductIDs...)
	for _, g := range n.GroupIDs {
		out = append(out, groups[g]...)
	}
	return out
}

// vexProfileProblems runs the CSAF 2.0 mandatory tests 6.1.1 and 6.1.27.4 to 6.1.27.11 that
// apply to csaf_vex documents.
func (d *csafIn) vexProfileProblems() []string {
	if d.Document.Category != "csaf_vex" {
		return nil
	}
	var out []string
	if d.ProductTree == nil {
		out = append(out, "6.1.27.4: /product_tree is missing")
	}
	if len(d.Vulnerabilities) == 0 {
		out = append(out, "6.1.27.11: /vulnerabilities is missing")
	}
	prods, groups := d.defined()
	for i, v := range d.Vulnerabilities {
		at := fmt.Sprintf("/vulnerabilities/%d", i)
		if len(v.Notes) == 0 {
			out = append(out, "6.1.27.5: "+at+"/notes is missing")
		}
		if v.CVE == "" && len(v.IDs) == 0 {
			out = append(out, "6.1.27.8: "+at+" has neither cve nor ids")
		}
		ps := v.ProductStatus
		if ps == nil {
			out = append(out, "6.1.27.6: "+at+"/product_status is missing")
			continue
		}
		if ps.Fixed == nil && ps.KnownAffected == nil && ps.KnownNotAffected == nil && ps.UnderInvestigation == nil {
			out = append(out, "6.1.27.7: "+at+"/product_status has none of fixed, known_affected, known_not_affected, under_investigation")
		}
		for _, list := range [][]string{ps.FirstAffected, ps.FirstFixed, ps.Fixed, ps.KnownAffected, ps.KnownNotAffected, ps.LastAffected, ps.Recommended, ps.UnderInvestigation} {
			for _, id := range list {
				if _, ok := prods[id]; !ok {
					out = append(out, fmt.Sprintf("6.1.1: %s/product_status: product ID %q is not defined in the product tree", at, id))
				}
			}
		}
		explained := map[string]bool{}
		for _, f := range v.Flags {
			for _, id := range f.products(groups) {
				explained[id] = true
			}
		}
		for _, t := range v.Threats {
			if t.Category == string(csaf.CSAFThreatCategoryImpact) {
				for _, id := range t.products(groups) {
					explained[id] = true
				}
			}
		}
		for _, id := range ps.KnownNotAffected {
			if !explained[id] {
				out = append(out, fmt.Sprintf("6.1.27.9: %s: known_not_affected product %q has no impact statement (flag or impact threat)", at, id))
			}
		}
		acted := map[string]bool{}
		for _, r := range v.Remediations {
			for _, id := range r.products(groups) {
				acted[id] = true
			}
		}
		for _, id := range ps.KnownAffected {
			if !acted[id] {
				out = append(out, fmt.Sprintf("6.1.27.10: %s: known_affected product %q has no action statement (remediation)", at, id))
			}
		}
	}
	return out
}

// parseCSAF reads the statuses of a CSAF 2.0 document (any category; csaf_vex is what carries
// VEX) into statements: one per (vulnerability, product) status.
func parseCSAF(name string, data []byte) (*Document, error) {
	var doc csafIn
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not a readable CSAF document: %v", name, err)
	}
	out := &Document{Format: FormatCSAF, ID: doc.Document.Tracking.ID, Author: doc.Document.Publisher.Name}
	if t, err := time.Parse(time.RFC3339Nano, doc.Document.Tracking.CurrentReleaseDate); err == nil {
		out.Timestamp = t.UTC()
	}
	prods, groups := doc.defined()
	parts := map[string][2]string{} // relationship product ID -> (component, device)
	if doc.ProductTree != nil {
		for _, r := range doc.ProductTree.Relationships {
			parts[r.FullProductName.ID] = [2]string{r.ProductRef, r.RelatesToRef}
		}
	}
	identify := func(id string) (Product, Component) {
		if rel, ok := parts[id]; ok {
			c, dev := prods[rel[0]], prods[rel[1]]
			comp := Component{PURL: c.purl()}
			if comp.PURL != "" {
				comp.Name, comp.Version = purlNameVersion(comp.PURL)
			} else {
				comp.Name, comp.Version = splitNameVersion(c.Name)
			}
			return Product{ID: cmp.Or(dev.purl(), dev.Name, rel[1]), Name: dev.Name}, comp
		}
		p := prods[id]
		return Product{ID: cmp.Or(p.purl(), p.Name, id), Name: cmp.Or(p.Name, id)}, Component{}
	}
	for i, v := range doc.Vulnerabilities {
		where := fmt.Sprintf("vulnerabilities[%d]", i)
		var ids []string
		for _, x := range v.IDs {
			if x.Text != "" {
				ids = append(ids, x.Text)
			}
		}
		if v.CVE != "" {
			ids = append(ids, v.CVE)
		}
		if len(ids) == 0 {
			out.Warnings = append(out.Warnings, where+": no cve or ids; skipped")
			continue
		}
		base := Statement{Vulnerability: ids[0], Timestamp: out.Timestamp, Author: out.Author}
		for _, a := range ids[1:] {
			if a != ids[0] && !slices.Contains(base.Aliases, a) {
				base.Aliases = append(base.Aliases, a)
			}
		}
		for _, n := range v.Notes {
			if n.Category == "description" || n.Category == "summary" {
				base.Description = cmp.Or(base.Description, n.Text)
			}
		}
		base.Description = cmp.Or(base.Description, v.Title)
		justification := map[string]Justification{}
		impact := map[string][]string{}
		action := map[string][]string{}
		stamp := map[string]time.Time{}
		seen := func(id, date string) {
			if t, err := time.Parse(time.RFC3339Nano, date); err == nil && t.After(stamp[id]) {
				stamp[id] = t.UTC()
			}
		}
		for _, f := range v.Flags {
			for _, id := range f.products(groups) {
				justification[id] = Justification(f.Label)
				seen(id, f.Date)
			}
		}
		for _, t := range v.Threats {
			if t.Category != string(csaf.CSAFThreatCategoryImpact) {
				continue
			}
			for _, id := range t.products(groups) {
				impact[id] = append(impact[id], t.Details)
				seen(id, t.Date)
			}
		}
		for _, r := range v.Remediations {
			for _, id := range r.products(groups) {
				action[id] = append(action[id], r.Details)
				seen(id, r.Date)
			}
		}
		ps := v.ProductStatus
		if ps == nil {
			out.Warnings = append(out.Warnings, fmt.Sprintf("%s (%s): no product_status; skipped", where, base.Vulnerability))
			continue
		}
		for _, set := range []struct {
			list   []string
			status Status
		}{{ps.KnownNotAffected, NotAffected}, {ps.KnownAffected, Affected}, {ps.FirstAffected, Affected}, {ps.LastAffected, Affected},
			{ps.Fixed, Fixed}, {ps.FirstFixed, Fixed}, {ps.UnderInvestigation, UnderInvestigation}} {
			for _, id := range set.list {
				s := base
				s.Product, s.Component = identify(id)
				s.Status = set.status
				if t := stamp[id]; !t.IsZero() {
					s.Timestamp = t
				}
				switch set.status {
				case NotAffected:
					s.Justification = justification[id]
					s.ImpactStatement = strings.Join(impact[id], "\n\n")
				case Affected:
					s.ActionStatement = strings.Join(action[id], "\n\n")
				}
				out.add(s, where)
			}
		}
	}
	return out, nil
}

func appendProduct(list *csaf.Products, id *csaf.ProductID) *csaf.Products {
	if list == nil {
		list = &csaf.Products{}
	}
	*list = append(*list, id)
	return list
}

func later(m map[string]time.Time, key string, t time.Time) {
	if t.After(m[key]) {
		m[key] = t
	}
}

func splitNameVersion(s string) (string, string) {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, ' '); i > 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

func idSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, strings.TrimSpace(s))
	return strings.Trim(s, "-")
}

func isCVE(id string) bool {
	rest, ok := strings.CutPrefix(id, "CVE-")
	if !ok || len(rest) < 9 || rest[4] != '-' {
		return false
	}
	for i, c := range rest {
		if i != 4 && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func str(s string) *string { return &s }

func pid(s string) *csaf.ProductID {
	id := csaf.ProductID(s)
	return &id
}

func branchCat(c csaf.BranchCategory) *csaf.BranchCategory { return &c }

func noteCat(c csaf.NoteCategory) *csaf.NoteCategory { return &c }
