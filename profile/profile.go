// Package profile reads and validates device profiles (schema vigil/device/v1): the facts about a
// device and its manufacturer from which Vigil decides which regimes and requirements apply.
package profile

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"github.com/vigil-med/vigil/internal/yamlfile"
)

// Schema is the only profile schema this version reads.
const Schema = "vigil/device/v1"

// Profile is a device profile as written by the user.
type Profile struct {
	Schema       string       `yaml:"schema" json:"schema"`
	Name         string       `yaml:"name" json:"name"`
	Version      string       `yaml:"version" json:"version,omitempty"`
	Manufacturer Manufacturer `yaml:"manufacturer" json:"manufacturer"`
	Device       Device       `yaml:"device" json:"device"`
	Markets      Markets      `yaml:"markets" json:"markets"`
}

// Manufacturer holds the legal-entity facts that NIS2 size caps and GDPR scope depend on.
type Manufacturer struct {
	Name              string   `yaml:"name" json:"name"`
	Employees         *int     `yaml:"employees" json:"employees,omitempty"`
	AnnualTurnoverEUR *int64   `yaml:"annual_turnover_eur" json:"annual_turnover_eur,omitempty"`
	BalanceSheetEUR   *int64   `yaml:"balance_sheet_eur" json:"balance_sheet_eur,omitempty"`
	EstablishedIn     []string `yaml:"established_in" json:"established_in,omitempty"`
}

// Device describes the product.
type Device struct {
	Kind         string       `yaml:"kind" json:"kind"`
	Description  string       `yaml:"description" json:"description,omitempty"`
	Software     *bool        `yaml:"software" json:"software"`
	Connectivity Connectivity `yaml:"connectivity" json:"connectivity"`
	Data         Data         `yaml:"data" json:"data"`
	AI           bool         `yaml:"ai" json:"ai"`
	Implantable  bool         `yaml:"implantable" json:"implantable,omitempty"`
	LayUser      bool         `yaml:"lay_user" json:"lay_user,omitempty"`
	// CriticalInPublicHealthEmergency: on the EU list of critical devices (NIS2 Annex I).
	CriticalInPublicHealthEmergency bool `yaml:"critical_in_public_health_emergency" json:"critical_in_public_health_emergency"`
}

// Connectivity is the manufacturer's statement of how the device connects.
type Connectivity struct {
	Internet      bool     `yaml:"internet" json:"internet"`
	Interfaces    []string `yaml:"interfaces" json:"interfaces"`
	Cloud         bool     `yaml:"cloud" json:"cloud"`
	RemoteUpdates bool     `yaml:"remote_updates" json:"remote_updates"`
}

// Data describes the personal data the device or its services process.
type Data struct {
	Personal       bool     `yaml:"personal" json:"personal"`
	Health         bool     `yaml:"health" json:"health"`
	DataSubjectsIn []string `yaml:"data_subjects_in" json:"data_subjects_in,omitempty"`
}

// Markets lists the markets the device is or will be placed on; nil means not on that market.
type Markets struct {
	US *USMarket `yaml:"us" json:"us,omitempty"`
	CA *CAMarket `yaml:"ca" json:"ca,omitempty"`
	EU *EUMarket `yaml:"eu" json:"eu,omitempty"`
	UK *UKMarket `yaml:"uk" json:"uk,omitempty"`
}

// USMarket: FDA class and premarket pathway.
type USMarket struct {
	Class      string `yaml:"class" json:"class,omitempty"`
	Submission string `yaml:"submission" json:"submission,omitempty"`
}

// CAMarket: Health Canada class.
type CAMarket struct {
	Class string `yaml:"class" json:"class,omitempty"`
}

// EUMarket: regulation (mdr, ivdr or none) and class.
type EUMarket struct {
	Regulation string `yaml:"regulation" json:"regulation"`
	Class      string `yaml:"class" json:"class,omitempty"`
}

// UKMarket: marking (ukca, ce, none) and class.
type UKMarket struct {
	Class   string `yaml:"class" json:"class,omitempty"`
	Marking string `yaml:"marking" json:"marking"`
}

// Enumerations of the contract.
var (
	Kinds       = []string{"simd", "samd", "ivd-simd", "ivd-samd", "accessory", "non-device"}
	Interfaces  = []string{"bluetooth", "bluetooth-le", "wifi", "ethernet", "cellular", "usb", "nfc", "serial", "removable-media", "none"}
	USClasses   = []string{"I", "II", "III"}
	USSubmits   = []string{"510k", "de-novo", "pma", "pdp", "hde", "exempt"}
	CAClasses   = []string{"I", "II", "III", "IV"}
	EURegs      = []string{"mdr", "ivdr", "none"}
	MDRClasses  = []string{"I", "Is", "Im", "Ir", "IIa", "IIb", "III"}
	IVDRClasses = []string{"A", "As", "B", "C", "D"}
	UKMarkings  = []string{"ukca", "ce", "none"}
	UKDevClass  = []string{"I", "Is", "Im", "IIa", "IIb", "III"}
	UKIVDClass  = []string{"general", "self-test", "list-b", "list-a"}
)

// IsIVD reports whether the device kind is an in vitro diagnostic.
func (p *Profile) IsIVD() bool { return strings.HasPrefix(p.Device.Kind, "ivd-") }

// IsDevice reports whether the product is a medical device (or accessory) at all.
func (p *Profile) IsDevice() bool { return p.Device.Kind != "non-device" }

// HasSoftware reports the device.software statement.
func (p *Profile) HasSoftware() bool { return p.Device.Software != nil && *p.Device.Software }

// PhysicalInterfaces returns the declared interfaces other than "none".
func (p *Profile) PhysicalInterfaces() []string {
	var out []string
	for _, i := range p.Device.Connectivity.Interfaces {
		if i != "none" {
			out = append(out, i)
		}
	}
	return out
}

// Connected reports whether the device has any connection: internet, cloud or an interface.
func (p *Profile) Connected() bool {
	c := p.Device.Connectivity
	return c.Internet || c.Cloud || c.RemoteUpdates || len(p.PhysicalInterfaces()) > 0
}

// LoadFile reads and validates a profile file.
func LoadFile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &yamlfile.Error{File: path, Msg: "cannot read: " + strings.TrimPrefix(err.Error(), "open "+path+": ")}
	}
	return Parse(path, data)
}

// Parse decodes and validates a profile (YAML or JSON). Every problem found is reported, each as
// "file:line: field: what was expected".
func Parse(name string, data []byte) (*Profile, error) {
	doc, err := yamlfile.Parse(name, data)
	if err != nil {
		return nil, err
	}
	var p Profile
	if err := doc.Decode(&p); err != nil {
		return nil, err
	}
	if err := p.validate(doc); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) validate(doc *yamlfile.Doc) error {
	var errs yamlfile.Errors
	bad := func(path, format string, args ...any) { errs = append(errs, doc.Errorf(path, format, args...)) }
	oneOf := func(path, v string, allowed []string) bool {
		if !slices.Contains(allowed, v) {
			if v == "" {
				bad(path, "required; expected one of %s", strings.Join(allowed, ", "))
			} else {
				bad(path, "expected one of %s, found %q", strings.Join(allowed, ", "), v)
			}
			return false
		}
		return true
	}
	countries := func(path string, codes []string) {
		for i, c := range codes {
			if !isCountry(c) {
				bad(fmt.Sprintf("%s[%d]", path, i), "expected an ISO 3166-1 alpha-2 country code such as US, DE or GB, found %q", c)
			}
		}
	}

	if p.Schema != Schema {
		if p.Schema == "" {
			bad("schema", "required; expected %q", Schema)
		} else {
			bad("schema", "expected %q, found %q", Schema, p.Schema)
		}
	}
	if strings.TrimSpace(p.Name) == "" {
		bad("name", "required; expected the device name")
	}
	m := p.Manufacturer
	if strings.TrimSpace(m.Name) == "" {
		bad("manufacturer.name", "required; expected the manufacturer's legal name")
	}
	if m.Employees != nil && *m.Employees < 0 {
		bad("manufacturer.employees", "expected a headcount of 0 or more, found %d", *m.Employees)
	}
	if m.AnnualTurnoverEUR != nil && *m.AnnualTurnoverEUR < 0 {
		bad("manufacturer.annual_turnover_eur", "expected an amount of 0 or more, found %d", *m.AnnualTurnoverEUR)
	}
	if m.BalanceSheetEUR != nil && *m.BalanceSheetEUR < 0 {
		bad("manufacturer.balance_sheet_eur", "expected an amount of 0 or more, found %d", *m.BalanceSheetEUR)
	}
	countries("manufacturer.established_in", m.EstablishedIn)

	d := p.Device
	oneOf("device.kind", d.Kind, Kinds)
	if d.Software == nil {
		bad("device.software", "required; expected true or false (does the product include software or firmware?)")
	}
	for i, in := range d.Connectivity.Interfaces {
		oneOf(fmt.Sprintf("device.connectivity.interfaces[%d]", i), in, Interfaces)
	}
	if slices.Contains(d.Connectivity.Interfaces, "none") && len(d.Connectivity.Interfaces) > 1 {
		bad("device.connectivity.interfaces", "\"none\" cannot be combined with other interfaces")
	}
	countries("device.data.data_subjects_in", d.Data.DataSubjectsIn)
	if d.Data.Health && !d.Data.Personal {
		bad("device.data.health", "health data is personal data; expected device.data.personal: true as well")
	}
	if len(d.Data.DataSubjectsIn) > 0 && !d.Data.Personal {
		bad("device.data.data_subjects_in", "data subjects are listed but device.data.personal is false")
	}

	mk := p.Markets
	if mk.US == nil && mk.CA == nil && mk.EU == nil && mk.UK == nil {
		bad("markets", "expected at least one market: us, ca, eu or uk")
	}
	nonDevice := d.Kind == "non-device"
	if us := mk.US; us != nil {
		if nonDevice && us.Class == "" && us.Submission == "" {
			// A non-device product on the US market has no class or pathway.
		} else if nonDevice {
			bad("markets.us", "device.kind is non-device, so a US class or submission makes no sense; expected us: {}")
		} else {
			oneOf("markets.us.class", us.Class, USClasses)
			oneOf("markets.us.submission", us.Submission, USSubmits)
		}
	}
	if ca := mk.CA; ca != nil {
		if nonDevice && ca.Class != "" {
			bad("markets.ca.class", "device.kind is non-device, so a Canadian class makes no sense; expected ca: {}")
		} else if !nonDevice {
			oneOf("markets.ca.class", ca.Class, CAClasses)
		}
	}
	if eu := mk.EU; eu != nil && oneOf("markets.eu.regulation", eu.Regulation, EURegs) {
		switch eu.Regulation {
		case "mdr":
			oneOf("markets.eu.class", eu.Class, MDRClasses)
			if p.IsIVD() {
				bad("markets.eu.regulation", "device.kind %s is an IVD, which falls under the IVDR; expected ivdr", d.Kind)
			}
		case "ivdr":
			oneOf("markets.eu.class", eu.Class, IVDRClasses)
			if !p.IsIVD() {
				bad("markets.eu.regulation", "device.kind %s is not an IVD; expected mdr (or none for a non-device)", d.Kind)
			}
		case "none":
			if eu.Class != "" {
				bad("markets.eu.class", "a product placed on the EU market not as a device has no class; remove it")
			}
		}
		if nonDevice && eu.Regulation != "none" {
			bad("markets.eu.regulation", "device.kind is non-device; expected none")
		}
		if !nonDevice && eu.Regulation == "none" {
			bad("markets.eu.regulation", "device.kind %s is a device; expected %s", d.Kind, map[bool]string{true: "ivdr", false: "mdr"}[p.IsIVD()])
		}
	}
	if uk := mk.UK; uk != nil && oneOf("markets.uk.marking", uk.Marking, UKMarkings) {
		switch uk.Marking {
		case "none":
			if uk.Class != "" {
				bad("markets.uk.class", "a product placed on the GB market not as a device has no class; remove it")
			}
			if !nonDevice {
				bad("markets.uk.marking", "device.kind %s is a device; expected ukca or ce", d.Kind)
			}
		case "ukca":
			if p.IsIVD() {
				oneOf("markets.uk.class", uk.Class, UKIVDClass)
			} else {
				oneOf("markets.uk.class", uk.Class, UKDevClass)
			}
		case "ce":
			allowed := append(slices.Clone(UKDevClass), "Ir")
			if p.IsIVD() {
				allowed = append(slices.Clone(UKIVDClass), IVDRClasses...)
			}
			oneOf("markets.uk.class", uk.Class, allowed)
		}
		if nonDevice && uk.Marking != "none" {
			bad("markets.uk.marking", "device.kind is non-device; expected none")
		}
	}
	return errs.Err()
}

func isCountry(code string) bool {
	if len(code) != 2 || strings.ToUpper(code) != code {
		return false
	}
	r, err := language.ParseRegion(code)
	return err == nil && r.IsCountry() && r.String() == code
}
