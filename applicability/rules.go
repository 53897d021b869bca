package applicability

import (
	"fmt"
	"slices"
	"strings"
)

// verdict is a rule's decision on one regime.
type verdict struct {
	applies   bool
	unclear   bool     // the law leaves the answer open; the rationale says why
	starts    string   // date the duties start, when later than today's law
	why       []string // sentences naming the profile facts used
	citations []string
}

func (v *verdict) say(format string, args ...any) {
	v.why = append(v.why, fmt.Sprintf(format, args...))
}

// rules maps every contract regime ID to its applicability rule.
var rules = map[string]func(f *facts) verdict{
	"us.fdca-524b":         ruleFDCA524B,
	"us.fda-premarket":     ruleFDAPremarket,
	"us.fda-postmarket":    ruleFDAPostmarket,
	"us.info-sharing":      ruleInfoSharing,
	"us.fda-mdr-reporting": ruleFDAMDR,
	"ca.hc-premarket":      ruleHCPremarket,
	"ca.mdr-reporting":     ruleCAReporting,
	"eu.mdr":               ruleEUMDR,
	"eu.ivdr":              ruleEUIVDR,
	"eu.mdcg-2019-16":      ruleMDCG,
	"eu.enisa":             ruleENISA,
	"eu.gdpr":              ruleGDPR,
	"eu.nis2":              ruleNIS2,
	"eu.cra":               ruleCRA,
	"eu.ai-act":            ruleAIAct,
	"uk.mdr-2002":          ruleUKMDR,
	"uk.ncsc":              ruleNCSC,
	"uk.nis-2018":          ruleUKNIS,
	"uk.gdpr":              ruleUKGDPR,
	"uk.psti":              rulePSTI,
}

func notOnMarket(market string, cites ...string) verdict {
	v := verdict{citations: cites}
	v.say("the device is not placed on the %s market (no markets.%s in the profile)", marketName(market), market)
	return v
}

func marketName(m string) string {
	return map[string]string{"us": "US", "ca": "Canadian", "eu": "EU", "uk": "GB"}[m]
}

// --- United States ---

var submission524B = []string{"510k", "de-novo", "pma", "pdp", "hde"}

func ruleFDCA524B(f *facts) verdict {
	cites := []string{"FD&C Act 524B(a)", "FD&C Act 524B(c)"}
	us := f.p.Markets.US
	if us == nil {
		return notOnMarket("us", cites...)
	}
	v := verdict{citations: cites}
	if !f.p.IsDevice() {
		v.say("the product is not a device (device.kind: non-device), so no premarket submission is made and section 524B cannot attach")
		return v
	}
	if !slices.Contains(submission524B, us.Submission) {
		v.say("section 524B attaches to 510(k), De Novo, PMA, PDP and HDE submissions; this device's US pathway is %q (markets.us.submission), so there is no submission for it to attach to — FDA's premarket guidance still applies", us.Submission)
		return v
	}
	if !f.software {
		v.say("the device includes no software (device.software: false), so it fails 524B(c)(1) and is not a cyber device")
		return v
	}
	if !f.internetCapable {
		v.say("it includes software but %s, so it fails 524B(c)(2) and is not a cyber device", f.internetBasis)
		return v
	}
	v.applies = true
	v.say("a %s submission is one of the submission types of 524B(a)", submissionName(us.Submission))
	v.say("the device includes software (524B(c)(1)) and %s (524B(c)(2))", f.internetBasis)
	v.say("with software and connectivity present, 524B(c)(3) (characteristics that could be vulnerable) is presumed met unless a documented justification shows otherwise, so it is a cyber device")
	v.say("the duties apply to submissions made on or after 2023-03-29; FDA may refuse to accept a cyber-device submission without them since 2023-10-01")
	v.citations = append(v.citations, "FD&C Act 524B(b)", "FDA premarket guidance (2026) VII.B")
	return v
}

func submissionName(s string) string {
	return map[string]string{"510k": "510(k)", "de-novo": "De Novo", "pma": "PMA", "pdp": "PDP", "hde": "HDE", "exempt": "510(k)-exempt"}[s]
}

func ruleFDAPremarket(f *facts) verdict {
	cites := []string{"FDA premarket guidance (2026) I (Scope)"}
	if f.p.Markets.US == nil {
		return notOnMarket("us", cites...)
	}
	v := verdict{citations: cites}
	if !f.p.IsDevice() {
		v.say("the product is not a device (device.kind: non-device); FDA's device guidance does not cover it")
		return v
	}
	if !f.software {
		v.say("the guidance covers devices that are or contain software, firmware or programmable logic; this device has none (device.software: false)")
		return v
	}
	v.applies = true
	v.say("the device contains software (device.software: true), which brings it within the guidance whether or not it is networked")
	if f.p.Markets.US.Submission == "exempt" {
		v.say("it is 510(k)-exempt, so there is no submission to review, but FDA expects the same design and documentation practices under the quality management system")
	} else {
		v.say("its %s submission is expected to carry the documentation the guidance lists, scaled to the device's cybersecurity risk", submissionName(f.p.Markets.US.Submission))
	}
	return v
}

func ruleFDAPostmarket(f *facts) verdict {
	cites := []string{"FDA postmarket guidance (2016) III (Scope)"}
	if f.p.Markets.US == nil {
		return notOnMarket("us", cites...)
	}
	v := verdict{citations: cites}
	if !f.p.IsDevice() {
		v.say("the product is not a device (device.kind: non-device)")
		return v
	}
	if !f.software {
		v.say("the guidance covers marketed devices that contain software, firmware or programmable logic; this device has none (device.software: false)")
		return v
	}
	v.applies = true
	v.say("the device is marketed in the US and contains software (device.software: true), so FDA expects a postmarket cybersecurity programme with controlled/uncontrolled risk decisions and their 30/60-day actions")
	if f.cyberDevice {
		v.say("as a cyber device, its 524B(b)(2) patch duties are read through this guidance's controlled and uncontrolled risk")
		v.citations = append(v.citations, "FDA premarket guidance (2026) VII.C.1")
	}
	return v
}

func ruleInfoSharing(f *facts) verdict {
	cites := []string{"FD&C Act 520(o)", "FDA postmarket guidance (2016) IX"}
	if f.p.Markets.US == nil {
		return notOnMarket("us", cites...)
	}
	v := verdict{citations: cites}
	if !f.p.IsDevice() {
		v.applies = true
		v.say("the product is declared not to be a device (device.kind: non-device); on the US market that conclusion rests on the software-function exclusions of FD&C Act 520(o)(1), which must be documented per function")
		return v
	}
	if !f.software {
		v.say("the device has no software (device.software: false); the information-sharing provisions concern cyber threats to software-based devices")
		return v
	}
	v.applies = true
	v.say("the device contains software; ISAO participation is voluntary, but it is one of the conditions under which FDA does not enforce 21 CFR 806 reports for uncontrolled vulnerabilities remediated in time")
	v.say("sharing cyber threat indicators under the Cybersecurity Information Sharing Act of 2015 brings liability protection; its extension beyond 2026-09-30 is UNVERIFIED")
	v.unclear = true
	v.citations = append(v.citations, "6 U.S.C. 1501-1510")
	return v
}

func ruleFDAMDR(f *facts) verdict {
	cites := []string{"21 CFR 803.50", "21 CFR 806.10"}
	if f.p.Markets.US == nil {
		return notOnMarket("us", cites...)
	}
	v := verdict{citations: cites}
	if !f.p.IsDevice() {
		v.say("the product is not a device (device.kind: non-device), so device reporting rules do not reach it")
		return v
	}
	v.applies = true
	v.say("the manufacturer markets a device in the US (markets.us), so deaths, serious injuries and reportable malfunctions (including those caused by a cyber attack) are reported under 21 CFR 803 and risk-reducing corrections under 21 CFR 806")
	if f.p.Markets.US.Submission == "pma" {
		v.say("as a PMA device it also files periodic reports (21 CFR 814.84) that carry cybersecurity changes")
		v.citations = append(v.citations, "21 CFR 814.84")
	}
	return v
}

// --- Canada ---

func ruleHCPremarket(f *facts) verdict {
	cites := []string{"Health Canada, Pre-market Requirements for Medical Device Cybersecurity (2019), 1 (Scope)"}
	ca := f.p.Markets.CA
	if ca == nil {
		return notOnMarket("ca", cites...)
	}
	v := verdict{citations: cites}
	if !f.p.IsDevice() {
		v.say("the product is not a device (device.kind: non-device)")
		return v
	}
	if !f.software {
		v.say("the guidance covers Class I-IV devices that consist of or contain software; this device has none (device.software: false)")
		return v
	}
	v.applies = true
	v.say("the device contains software and is a Class %s device in Canada (markets.ca.class), within the guidance's scope of Class I-IV devices, IVD or not", ca.Class)
	switch ca.Class {
	case "I":
		v.say("Class I needs no medical device licence, so nothing is filed; the guidance still expects a cybersecurity strategy, kept on record")
	case "II":
		v.say("a Class II licence application rests on attestation, so the cybersecurity evidence is kept on file and given on request (whether the guidance asks for any item in the application is UNVERIFIED)")
		v.unclear = true
	default:
		v.say("a Class %s licence application is reviewed on its evidence, so the cybersecurity evidence is filed in it (IMDRF table-of-contents folders)", ca.Class)
	}
	v.citations = append(v.citations, "SOR/98-282 s.32")
	return v
}

func ruleCAReporting(f *facts) verdict {
	cites := []string{"SOR/98-282 ss.59-61.2", "SOR/98-282 ss.64-65"}
	ca := f.p.Markets.CA
	if ca == nil {
		return notOnMarket("ca", cites...)
	}
	v := verdict{citations: cites}
	if !f.p.IsDevice() {
		v.say("the product is not a device (device.kind: non-device)")
		return v
	}
	v.applies = true
	v.say("the device is sold in Canada as Class %s (markets.ca.class), so incidents in Canada (10 or 30 days), foreign risk notifications (72 hours) and recalls are reported under the Medical Devices Regulations; a cyber event is reportable when it meets the incident test", ca.Class)
	if ca.Class != "I" {
		v.say("as a licensed Class %s device it also needs summary reports (s.61.4)", ca.Class)
	}
	return v
}

// --- European Union ---

func ruleEUMDR(f *facts) verdict {
	cites := []string{"Regulation (EU) 2017/745 Art. 1", "Regulation (EU) 2017/745 Art. 2(1)"}
	eu := f.p.Markets.EU
	if eu == nil {
		return notOnMarket("eu", cites...)
	}
	v := verdict{citations: cites}
	switch eu.Regulation {
	case "mdr":
		v.applies = true
		v.say("the device is placed on the EU market under the MDR as class %s (markets.eu)", eu.Class)
		if f.software {
			v.say("it includes software, so the software and IT-security GSPRs (17.2, 17.4, 23.4(ab)) and, as an active device, 18.8 apply")
		}
	case "ivdr":
		v.say("the device is an in vitro diagnostic placed under the IVDR (markets.eu.regulation: ivdr), not the MDR")
	default:
		v.say("the product is placed on the EU market but not as a medical device (markets.eu.regulation: none)")
	}
	return v
}

func ruleEUIVDR(f *facts) verdict {
	cites := []string{"Regulation (EU) 2017/746 Art. 1", "Regulation (EU) 2017/746 Art. 2(2)"}
	eu := f.p.Markets.EU
	if eu == nil {
		return notOnMarket("eu", cites...)
	}
	v := verdict{citations: cites}
	if eu.Regulation == "ivdr" {
		v.applies = true
		v.say("the device is an in vitro diagnostic placed on the EU market under the IVDR as class %s (markets.eu)", eu.Class)
		if f.software {
			v.say("it includes software, so GSPRs 16.2, 16.4 and 20.4.1(ah) apply; the IVDR has no counterpart of MDR GSPR 18.8")
		}
		return v
	}
	v.say("the device is not placed under the IVDR (markets.eu.regulation: %s)", eu.Regulation)
	return v
}

func ruleMDCG(f *facts) verdict {
	cites := []string{"MDCG 2019-16 Rev.1 s.1 (Scope)"}
	eu := f.p.Markets.EU
	if eu == nil {
		return notOnMarket("eu", cites...)
	}
	v := verdict{citations: cites}
	if eu.Regulation == "none" {
		v.say("the product is not placed on the EU market as a device (markets.eu.regulation: none)")
		return v
	}
	if !f.software {
		v.say("the guidance addresses devices that incorporate electronic programmable systems and software; this device has none (device.software: false)")
		return v
	}
	v.applies = true
	v.say("the device contains software and falls under the %s, whose cybersecurity GSPRs notified bodies assess against this guidance", strings.ToUpper(eu.Regulation))
	return v
}

func ruleENISA(f *facts) verdict {
	cites := []string{"ENISA Procurement Guidelines for Cybersecurity in Hospitals (2020)"}
	eu := f.p.Markets.EU
	if eu == nil {
		return notOnMarket("eu", cites...)
	}
	v := verdict{citations: cites}
	if eu.Regulation == "none" || !f.software {
		v.say("ENISA's healthcare guidance addresses connected medical devices bought by hospitals; this product is %s", map[bool]string{true: "not placed as a device (markets.eu.regulation: none)", false: "without software (device.software: false)"}[eu.Regulation == "none"])
		return v
	}
	v.applies = true
	v.say("non-binding: EU hospitals build ENISA's procurement guidelines into tenders, so a device with software sold to them is asked for SBOMs, patch commitments, vulnerability handling and test evidence")
	return v
}

func ruleGDPR(f *facts) verdict {
	cites := []string{"GDPR Art. 3"}
	v := verdict{citations: cites}
	d := f.p.Device.Data
	if !d.Personal {
		v.say("the product processes no personal data (device.data.personal: false)")
		return v
	}
	switch {
	case len(f.eeaEstab) > 0:
		v.applies = true
		v.say("the manufacturer has an establishment in %s (manufacturer.established_in), and processing in the context of an EU/EEA establishment is covered wherever it takes place (Art. 3(1))", strings.Join(f.eeaEstab, ", "))
	case len(f.euSubjects) > 0:
		v.applies = true
		v.say("the manufacturer has no EU/EEA establishment, but the product processes personal data of people in %s (device.data.data_subjects_in); offering goods or services to them or monitoring their behaviour brings it in scope (Art. 3(2)) and calls for an EU representative (Art. 27)", strings.Join(f.euSubjects, ", "))
		v.citations = append(v.citations, "GDPR Art. 27")
	case f.p.Markets.EU != nil && len(d.DataSubjectsIn) == 0:
		v.applies = true
		v.unclear = true
		v.say("the product is placed on the EU market and processes personal data, but device.data.data_subjects_in is empty; people in the EU are presumed to be among its users (Art. 3(2))")
	default:
		v.say("the product processes personal data, but neither an EU/EEA establishment (manufacturer.established_in) nor data subjects in the EU/EEA (device.data.data_subjects_in) are declared")
		return v
	}
	if d.Health {
		v.say("the data include health data, a special category: processing needs an Art. 9(2) condition, and large-scale processing needs a DPIA (Art. 35(3)(b))")
		v.citations = append(v.citations, "GDPR Art. 9", "GDPR Art. 35")
	}
	if !f.p.Device.Connectivity.Cloud && !f.p.Device.Connectivity.RemoteUpdates && !f.p.Device.Connectivity.Internet {
		v.unclear = true
		v.say("the device keeps data locally and uses no manufacturer services, so the manufacturer may be neither controller nor processor; the GDPR then binds the healthcare provider, and the maker's part is to design the device so the provider can comply (Art. 25, Recital 78)")
	}
	return v
}

func ruleNIS2(f *facts) verdict {
	cites := []string{"NIS2 Art. 2(1)", "NIS2 Annex II, sector 5(a)"}
	v := verdict{citations: cites}
	p := f.p
	if !p.IsDevice() {
		v.say("the maker is treated as a medical-device manufacturer only for products that are devices; this product is not (device.kind: non-device) — other NIS2 entity types (e.g. cloud computing) are not assessed from the profile")
		return v
	}
	if p.Markets.EU == nil && len(f.euEstab) == 0 {
		v.say("the manufacturer neither places devices on the EU market (markets.eu) nor has an EU establishment (manufacturer.established_in)")
		return v
	}
	// Size cap.
	switch {
	case !f.sizeKnown && (p.Manufacturer.Employees == nil || *p.Manufacturer.Employees < 50):
		v.unclear = true
		v.say("NIS2 covers medium-sized and larger enterprises (Art. 2(1), Recommendation 2003/361/EC); the size cannot be settled from the profile (%s), so Vigil assumes the manufacturer is in scope until the headcount and financial figures show a micro or small enterprise", f.sizeBasis)
	case f.size <= small:
		v.say("the manufacturer is a %s enterprise under Recommendation 2003/361/EC (%s), below NIS2's size cap (Art. 2(1)); it is in scope only if a Member State designates it or it is a critical entity under Directive (EU) 2022/2557 (Art. 2(2)-(3))", f.size, f.sizeBasis)
		v.citations = append(v.citations, "Recommendation 2003/361/EC Annex Art. 2")
		return v
	case !f.sizeKnown:
		v.say("the manufacturer has at least 50 staff (%s), so it is at least a medium-sized enterprise under Recommendation 2003/361/EC and within NIS2's size cap (Art. 2(1))", f.sizeBasis)
	default:
		v.say("the manufacturer is a %s enterprise under Recommendation 2003/361/EC (%s), at or above NIS2's size cap (Art. 2(1))", f.size, f.sizeBasis)
	}
	v.citations = append(v.citations, "Recommendation 2003/361/EC Annex Art. 2")
	v.say("manufacturing medical devices or IVDs is an Annex II activity (sector 5 'Manufacturing', subsector (a))")
	// Category.
	if p.Device.CriticalInPublicHealthEmergency {
		v.citations = append(v.citations, "NIS2 Annex I, sector 5 (Health)", "NIS2 Art. 3(1)")
		if f.size == large {
			f.nis2Cat = "essential"
			v.say("its devices are on the EU list of devices critical during a public health emergency (Annex I, health) and it exceeds the medium-sized ceilings, so it is an essential entity (Art. 3(1)(a))")
		} else {
			f.nis2Cat = "important"
			v.say("its devices are on the EU list of critical devices (Annex I, health), but it does not exceed the medium-sized ceilings, so it is an important entity (Art. 3(2))")
		}
	} else {
		f.nis2Cat = "important"
		v.say("as an Annex II entity it is an important entity (Art. 3(2)) unless a Member State designates it essential")
		v.citations = append(v.citations, "NIS2 Art. 3(2)")
	}
	// Establishment and jurisdiction.
	if len(f.euEstab) > 0 {
		v.say("it falls under the jurisdiction of the Member State(s) where it is established: %s (Art. 26(1)); duties come from their transposition laws, whose status varies", strings.Join(f.euEstab, ", "))
	} else {
		v.unclear = true
		v.say("it has no EU establishment (manufacturer.established_in); NIS2 ties jurisdiction to the Member State of establishment (Art. 26(1)) and has no representative rule for manufacturers, so how national laws reach it is unclear — its EU importer or subsidiary may be the entity in scope")
	}
	v.applies = true
	v.citations = append(v.citations, "NIS2 Art. 26")
	return v
}

func ruleCRA(f *facts) verdict {
	cites := []string{"CRA Art. 2(1)", "CRA Art. 2(2)"}
	v := verdict{citations: cites}
	eu := f.p.Markets.EU
	if eu == nil {
		v.say("the product is not placed on the EU market (no markets.eu)")
		return v
	}
	if eu.Regulation == "mdr" || eu.Regulation == "ivdr" {
		v.say("the CRA does not apply to products with digital elements covered by the %s (Art. 2(2)(%s)); the device's cybersecurity is governed by the %s instead", strings.ToUpper(eu.Regulation), map[string]string{"mdr": "a", "ivdr": "b"}[eu.Regulation], strings.ToUpper(eu.Regulation))
		v.say("companion products sold separately that are not devices or accessories (gateways, wellness apps) fall under the CRA and need their own profile")
		return v
	}
	if !f.software {
		v.say("the product has no software (device.software: false), so it is not a product with digital elements")
		return v
	}
	if !f.p.Connected() {
		v.say("the CRA covers products with digital elements whose intended or foreseeable use includes a logical or physical data connection to a device or network (Art. 2(1)); this product declares none (device.connectivity)")
		return v
	}
	v.applies = true
	v.say("the product is placed on the EU market but not as a device (markets.eu.regulation: none), so the MDR/IVDR exclusion of Art. 2(2) does not help it; with software and a data connection (device.connectivity) it is a product with digital elements (Art. 2(1))")
	v.say("vulnerability and incident reporting (Art. 14) applies from 2026-09-11; the rest of the Regulation from 2027-12-11 (Art. 71(2))")
	v.citations = append(v.citations, "CRA Art. 14", "CRA Art. 71(2)")
	if f.p.Device.Data.Health {
		v.say("a personal wearable with a health-monitoring purpose outside the MDR/IVDR is an important product (Annex III, class I, item 19), which needs harmonised standards or third-party assessment; check whether this product is one")
		v.citations = append(v.citations, "CRA Annex III, class I, item 19")
		v.unclear = true
	}
	return v
}

// Classes for which MDR/IVDR require a notified body, making AI in them high-risk (AI Act Art. 6(1)).
var (
	mdrNotified  = []string{"Is", "Im", "Ir", "IIa", "IIb", "III"}
	ivdrNotified = []string{"As", "B", "C", "D"}
)

func ruleAIAct(f *facts) verdict {
	cites := []string{"AI Act Art. 6(1)", "AI Act Annex I, Section A"}
	v := verdict{citations: cites}
	eu := f.p.Markets.EU
	if eu == nil {
		v.say("the product is not placed on the EU market (no markets.eu)")
		return v
	}
	if !f.p.Device.AI {
		v.say("the device has no AI/ML function (device.ai: false)")
		return v
	}
	switch {
	case eu.Regulation == "mdr" && slices.Contains(mdrNotified, eu.Class), eu.Regulation == "ivdr" && slices.Contains(ivdrNotified, eu.Class):
		v.applies = true
		v.starts = "2028-08-02"
		v.say("the device includes an AI function (device.ai: true) and, as %s class %s, needs notified-body conformity assessment, so the AI system is high-risk under Art. 6(1) (MDR/IVDR are listed in Annex I, Section A)", strings.ToUpper(eu.Regulation), eu.Class)
		v.say("the high-risk duties, including accuracy, robustness and cybersecurity (Art. 15), apply to such product-embedded AI from 2028-08-02 as moved by the Digital Omnibus on AI (originally 2027-08-02; publication in the Official Journal UNVERIFIED)")
		v.citations = append(v.citations, "AI Act Art. 15", "AI Act Art. 113")
		v.unclear = true
	case eu.Regulation == "none":
		v.unclear = true
		v.say("the product has an AI function but is not a device (markets.eu.regulation: none); it is high-risk only if its use falls under an Annex III use case, which the profile cannot tell")
		v.citations = append(v.citations, "AI Act Art. 6(2)", "AI Act Annex III")
	default:
		v.say("the device includes an AI function, but as %s class %s it is self-certified without a notified body, so Art. 6(1) does not make it high-risk; the cybersecurity duties of Art. 15 attach only to high-risk AI systems (general duties such as AI literacy, Art. 4, still apply)", strings.ToUpper(eu.Regulation), eu.Class)
	}
	return v
}

// --- United Kingdom ---

func ruleUKMDR(f *facts) verdict {
	cites := []string{"UK MDR 2002 (SI 2002/618) reg 2", "UK MDR 2002 Part 4A (SI 2024/1368)"}
	uk := f.p.Markets.UK
	if uk == nil {
		return notOnMarket("uk", cites...)
	}
	v := verdict{citations: cites}
	if uk.Marking == "none" {
		v.say("the product is placed on the GB market but not as a medical device (markets.uk.marking: none)")
		return v
	}
	v.applies = true
	switch uk.Marking {
	case "ukca":
		v.say("the device is placed on the GB market with UKCA marking as class %s (markets.uk)", uk.Class)
	case "ce":
		v.say("the device is placed on the GB market on its CE marking as class %s (markets.uk); GB recognises EU MDR/IVDR CE marking until the certificate expires or 2030-06-30 at the latest (indefinite recognition was consulted on in 2026 — outcome UNVERIFIED)", uk.Class)
		v.unclear = true
	}
	v.say("registration with the MHRA, a UK Responsible Person for makers outside the UK, and the GB post-market surveillance and vigilance rules of Part 4A (in force 2025-06-16) apply whichever marking it carries")
	v.say("the essential requirements have no explicit IT-security clause yet; software validation to the state of the art (ER 12.1a) is the legal hook")
	return v
}

func ruleNCSC(f *facts) verdict {
	cites := []string{"NHS England DTAC", "NCSC Cyber Assessment Framework v4.0"}
	uk := f.p.Markets.UK
	if uk == nil {
		return notOnMarket("uk", cites...)
	}
	v := verdict{citations: cites}
	if !f.software {
		v.say("the product has no software (device.software: false); the NCSC and NHS digital frameworks address digital products and their suppliers")
		return v
	}
	v.applies = true
	v.say("non-binding for the maker as such, but NHS buyers require DTAC (Cyber Essentials, penetration testing, DPIA, DCB0129 clinical safety) and the DSPT from suppliers with access to NHS data, and NCSC's CAF and vulnerability-disclosure guidance are the yardstick they use")
	v.unclear = true
	v.say("whether the product is sold to the NHS is not in the profile; without NHS customers most of this is good practice only")
	return v
}

func ruleUKNIS(f *facts) verdict {
	cites := []string{"NIS Regulations 2018 (SI 2018/506) reg 8", "NIS Regulations 2018 Sch. 2 para 8"}
	v := verdict{citations: cites}
	if f.p.Markets.UK == nil && !f.ukEstab {
		v.say("the device is not placed on the GB market and the manufacturer has no UK establishment")
		return v
	}
	v.say("the NIS Regulations 2018 bind operators of essential services (for health: NHS trusts, integrated care boards and certain providers) and relevant digital service providers; medical device manufacturers are not among them, so their duties reach the maker only through customer contracts")
	v.say("the Cyber Security and Resilience Bill (introduced 2025-11-12) would let regulators designate critical suppliers, which could include device makers; Royal Assent is UNVERIFIED")
	v.unclear = true
	return v
}

func ruleUKGDPR(f *facts) verdict {
	cites := []string{"UK GDPR Art. 3"}
	v := verdict{citations: cites}
	d := f.p.Device.Data
	if !d.Personal {
		v.say("the product processes no personal data (device.data.personal: false)")
		return v
	}
	switch {
	case f.ukEstab:
		v.applies = true
		v.say("the manufacturer has a UK establishment (manufacturer.established_in: GB), so its processing is covered (Art. 3(1))")
	case f.ukSubjects:
		v.applies = true
		v.say("the product processes personal data of people in the UK (device.data.data_subjects_in: GB); offering goods or services to them or monitoring them brings a non-UK maker in scope (Art. 3(2)) and calls for a UK representative (Art. 27)")
		v.citations = append(v.citations, "UK GDPR Art. 27")
	case f.p.Markets.UK != nil && len(d.DataSubjectsIn) == 0:
		v.applies = true
		v.unclear = true
		v.say("the product is placed on the GB market and processes personal data, but device.data.data_subjects_in is empty; people in the UK are presumed to be among its users")
	default:
		v.say("the product processes personal data, but neither a UK establishment nor data subjects in the UK are declared")
		return v
	}
	if d.Health {
		v.say("health data are special category data: an Art. 9 condition with a DPA 2018 Schedule 1 condition, and a DPIA for high-risk processing")
		v.citations = append(v.citations, "UK GDPR Art. 9", "DPA 2018 Sch. 1")
	}
	return v
}

func rulePSTI(f *facts) verdict {
	cites := []string{"PSTI Act 2022 s.4", "SI 2023/1007 Sch. 3 para 3"}
	uk := f.p.Markets.UK
	if uk == nil {
		return notOnMarket("uk", cites...)
	}
	v := verdict{citations: cites}
	if uk.Marking != "none" {
		v.say("products to which the Medical Devices Regulations 2002 apply are excepted from the product security regime (SI 2023/1007 Sch. 3 para 3(1)); this is a device on the GB market (markets.uk.marking: %s)", uk.Marking)
		if f.p.Device.Kind == "samd" {
			v.say("para 3(2) keeps in scope any connectable product on which device software runs: if you also supply the phone, tablet or hub that runs this software, that hardware needs its own assessment")
			v.unclear = true
		}
		return v
	}
	if !f.p.Connected() {
		v.say("the product has no network or radio connection (device.connectivity), so it is not a relevant connectable product")
		return v
	}
	v.applies = true
	v.say("the product is connectable (device.connectivity) and placed on the GB market not as a device (markets.uk.marking: none), so the security requirements for relevant connectable products apply if it is made available to consumers: no universal default passwords, a way to report security issues, and a published minimum security update period")
	v.unclear = true
	v.say("whether it is sold to consumers, and whether another exception (e.g. Sch. 3 para 5 for computers) applies, is not in the profile")
	return v
}
