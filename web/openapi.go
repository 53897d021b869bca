package web

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/vigil-med/vigil/sbom"
)

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

// apiDocs describes each API route for the OpenAPI document.
var apiDocs = map[string]struct {
	summary string
	body    string // request schema name
	resp    string // response schema name
	status  string
}{
	"GET /healthz":                                     {"Liveness and database check", "", "Health", "200"},
	"GET /metrics":                                     {"Prometheus metrics (text format)", "", "", "200"},
	"GET /api/openapi.json":                            {"This document", "", "", "200"},
	"GET /api/v1/products":                             {"List products", "", "ProductPage", "200"},
	"POST /api/v1/products":                            {"Create a product", "ProductInput", "Product", "201"},
	"GET /api/v1/products/{id}":                        {"Get a product", "", "Product", "200"},
	"GET /api/v1/products/{id}/versions":               {"List the versions of a product", "", "VersionPage", "200"},
	"POST /api/v1/products/{id}/versions":              {"Create a device version from a vigil/device/v1 profile", "VersionInput", "DeviceVersion", "201"},
	"GET /api/v1/versions/{id}":                        {"A device version with readiness per market and regime verdicts", "", "VersionDetail", "200"},
	"GET /api/v1/versions/{id}/requirements":           {"Applicable requirements with their assessment (filters: status, market, regime)", "", "RequirementPage", "200"},
	"PUT /api/v1/versions/{id}/assessments/{rid}":      {"Set the assessment of one requirement (met and not-applicable need the approver role)", "AssessmentInput", "Assessment", "200"},
	"GET /api/v1/versions/{id}/evidence":               {"List evidence of a device version", "", "EvidencePage", "200"},
	"POST /api/v1/versions/{id}/evidence":              {"Upload evidence (multipart: file, title, link=requirement:<id>|control:<CO-xx>, repeatable)", "EvidenceUpload", "Evidence", "201"},
	"GET /api/v1/evidence/{eid}":                       {"Evidence metadata", "", "Evidence", "200"},
	"GET /api/v1/evidence/{eid}/content":               {"Download evidence content", "", "", "200"},
	"POST /api/v1/versions/{id}/sboms":                 {"Store an SBOM for a device version (multipart: file, label, replace=true); computes its findings and carries VEX decisions forward", "SBOMUpload", "SBOMImport", "201"},
	"GET /api/v1/versions/{id}/sboms":                  {"List the SBOMs of a device version", "", "SBOMPage", "200"},
	"GET /api/v1/sboms/{sid}/components":               {"Components of a stored SBOM with their level of support and end-of-support date (from the SBOM or its support file)", "", "SBOMComponentPage", "200"},
	"PUT /api/v1/sboms/{sid}/components/{ref}/support": {"Set the level of support and end-of-support date of one component ({ref}: its bom-ref or SPDXID, percent-encoded); stored in the SBOM's support file (vigil/sbom-support/v1), quality score recomputed", "ComponentSupportInput", "ComponentSupportResult", "200"},
	"GET /api/v1/versions/{id}/findings":               {"Findings of a device version over all its SBOMs, with their VEX decision (filters: severity=critical,high, kev=true, status=<VEX status>|untriaged, resolved=true)", "", "FindingPage", "200"},
	"PUT /api/v1/versions/{id}/findings/vex":           {"Record the VEX decision on one finding (not_affected and fixed need the approver role)", "VEXInput", "VEXStatement", "200"},
	"GET /api/v1/versions/{id}/vex":                    {"The VEX document of a device version (format=openvex|cyclonedx|csaf, namespace=<CSAF publisher URL>)", "", "", "200"},
	"GET /api/v1/advisories/{aid}/impact":              {"Device versions a vulnerability (any of its IDs: GO-, GHSA-, CVE-) affects, with fixed versions and VEX decisions", "", "Impact", "200"},
	"GET /api/v1/findings/new":                         {"Open findings first seen since a time, across the portfolio (since=RFC 3339, default 7 days ago)", "", "FindingPage", "200"},
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func obj(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

var (
	str     = map[string]any{"type": "string"}
	integ   = map[string]any{"type": "integer", "format": "int64"}
	boolean = map[string]any{"type": "boolean"}
	dtime   = map[string]any{"type": "string", "format": "date-time"}
)

func pageOf(item string) map[string]any {
	return obj([]string{"items", "total", "limit", "offset"}, map[string]any{
		"items": map[string]any{"type": "array", "items": ref(item)}, "total": integ, "limit": integ, "offset": integ})
}

func (s *Server) openAPIDoc() map[string]any {
	status := map[string]any{"type": "string", "enum": []string{"not-started", "in-progress", "met", "not-met", "not-applicable"}}
	vexStatus := map[string]any{"type": "string", "enum": []string{"not_affected", "affected", "fixed", "under_investigation"}}
	vexJustification := map[string]any{"type": "string", "enum": []string{"component_not_present", "vulnerable_code_not_present",
		"vulnerable_code_cannot_be_controlled_by_adversary", "vulnerable_code_not_in_execute_path", "inline_mitigations_already_exist"}}
	strList := map[string]any{"type": "array", "items": str}
	supportLevel := map[string]any{"type": "string", "enum": sbom.SupportLevels}
	date := map[string]any{"type": "string", "format": "date"}
	schemas := map[string]any{
		"Error":         obj([]string{"error"}, map[string]any{"error": obj([]string{"status", "message"}, map[string]any{"status": integ, "message": str})}),
		"Health":        obj([]string{"status"}, map[string]any{"status": str, "database": str, "catalog": str, "version": str}),
		"ProductInput":  obj([]string{"name"}, map[string]any{"name": str, "manufacturer": str, "description": str}),
		"Product":       obj([]string{"id", "name"}, map[string]any{"id": integ, "name": str, "manufacturer": str, "description": str, "created_at": dtime, "updated_at": dtime}),
		"ProductPage":   pageOf("Product"),
		"VersionInput":  obj([]string{"profile"}, map[string]any{"version": str, "profile": map[string]any{"type": "string", "description": "device profile (vigil/device/v1) as YAML or JSON text"}}),
		"DeviceVersion": obj([]string{"id", "product_id", "version"}, map[string]any{"id": integ, "product_id": integ, "product_name": str, "version": str, "profile_yaml": str, "created_at": dtime}),
		"VersionPage":   pageOf("DeviceVersion"),
		"Readiness": obj([]string{"market", "applicable", "met", "percent"}, map[string]any{"market": str, "on_market": boolean, "applicable": integ, "not_applicable": integ, "met": integ,
			"counts": map[string]any{"type": "object", "additionalProperties": integ}, "percent": map[string]any{"type": "number"}}),
		"Regime": obj([]string{"id", "applies", "rationale", "citations"}, map[string]any{"id": str, "applies": boolean, "rationale": str, "citations": map[string]any{"type": "array", "items": str}, "unclear": boolean}),
		"VersionDetail": map[string]any{"allOf": []any{ref("DeviceVersion"), obj(nil, map[string]any{"device": str, "cyber_device": boolean,
			"readiness": map[string]any{"type": "array", "items": ref("Readiness")}, "regimes": map[string]any{"type": "array", "items": ref("Regime")}})}},
		"Requirement": obj([]string{"id", "regime", "title", "status"}, map[string]any{"id": str, "regime": str, "applies": boolean, "title": str, "citations": map[string]any{"type": "array", "items": str},
			"controls": map[string]any{"type": "array", "items": str}, "evidence": map[string]any{"type": "array", "items": str}, "unverified": boolean, "status": status, "owner": str, "justification": str, "due_date": map[string]any{"type": "string", "format": "date"}}),
		"RequirementPage": pageOf("Requirement"),
		"AssessmentInput": obj([]string{"status"}, map[string]any{"status": status, "owner": str, "justification": str, "due_date": map[string]any{"type": "string", "format": "date"}}),
		"Assessment":      obj([]string{"device_version_id", "requirement_id", "status"}, map[string]any{"device_version_id": integ, "requirement_id": str, "status": status, "owner": str, "justification": str, "due_date": str, "updated_at": dtime, "updated_by": str}),
		"Link":            obj([]string{"kind", "target_id"}, map[string]any{"kind": map[string]any{"type": "string", "enum": []string{"requirement", "control"}}, "target_id": str}),
		"Evidence": obj([]string{"id", "sha256"}, map[string]any{"id": integ, "device_version_id": integ, "title": str, "filename": str, "content_type": str, "size": integ, "sha256": str,
			"uploaded_by": str, "uploaded_at": dtime, "links": map[string]any{"type": "array", "items": ref("Link")}}),
		"EvidencePage": pageOf("Evidence"),
		"SBOMUpload":   obj([]string{"file"}, map[string]any{"file": map[string]any{"type": "string", "format": "binary"}, "label": str, "replace": boolean}),
		"SBOM": obj([]string{"id", "device_version_id", "label", "format", "sha256", "components"}, map[string]any{"id": integ, "device_version_id": integ, "label": str,
			"format": str, "spec_version": str, "encoding": str, "subject_name": str, "subject_version": str, "filename": str, "size": integ, "sha256": str,
			"components": integ, "quality": integ, "uploaded_by": str, "uploaded_at": dtime}),
		"SBOMPage": pageOf("SBOM"),
		"SBOMComponent": obj([]string{"ref", "name"}, map[string]any{"ref": str, "name": str, "version": str, "purl": str, "supplier": str,
			"primary": map[string]any{"type": "boolean", "description": "the SBOM's primary component (the device itself); no support data is asked of it"},
			"support": supportLevel, "end_of_support": date, "support_note": str,
			"support_source": map[string]any{"type": "string", "enum": []string{"sbom", "sidecar"}}}),
		"SBOMComponentPage": pageOf("SBOMComponent"),
		"ComponentSupportInput": obj(nil, map[string]any{
			"support":        map[string]any{"type": "string", "enum": append([]string{""}, sbom.SupportLevels...), "description": "level of support; \"\" removes it from the support file, absent keeps it"},
			"end_of_support": map[string]any{"type": "string", "description": "YYYY-MM-DD; \"\" removes it from the support file, absent keeps it"},
			"note":           map[string]any{"type": "string", "description": "justification or remark (FDA expects one when no date can be given); absent keeps it"}}),
		"SupportEntry": obj(nil, map[string]any{"purl": str, "name": str, "version": str, "support": supportLevel, "end_of_support": date, "note": str}),
		"ComponentSupportResult": obj([]string{"ref", "name", "changed"}, map[string]any{"ref": str, "name": str, "version": str, "purl": str,
			"before": ref("SupportEntry"), "after": ref("SupportEntry"), "changed": boolean, "support": supportLevel, "end_of_support": date, "note": str,
			"source": map[string]any{"type": "string", "enum": []string{"sbom", "sidecar"}}, "quality": integ, "support_sha256": str}),
		"Severity":  obj([]string{"rating"}, map[string]any{"rating": str, "score": map[string]any{"type": "number"}, "cvss_vector": str}),
		"Component": obj([]string{"name"}, map[string]any{"name": str, "version": str, "purl": str}),
		"VEXInput": obj([]string{"advisory", "status"}, map[string]any{"advisory": str, "component": map[string]any{"type": "string", "description": "package URL, component key or name; optional when the advisory hits one component"},
			"status": vexStatus, "justification": vexJustification, "impact_statement": str, "action_statement": str}),
		"VEXStatement": obj([]string{"device_version_id", "advisory", "component_key", "status", "author", "at"}, map[string]any{"device_version_id": integ, "advisory": str,
			"component_key": str, "component_name": str, "component_version": str, "purl": str, "status": vexStatus, "justification": vexJustification,
			"impact_statement": str, "action_statement": str, "author": str, "at": dtime, "note": str, "carried_from": integ}),
		"Finding": obj([]string{"device_version_id", "component_key", "advisory", "severity"}, map[string]any{"device_version_id": integ, "product_id": integ,
			"product_name": str, "version": str, "component_key": str, "component": ref("Component"), "ecosystem": str, "advisory": str, "aliases": strList,
			"summary": str, "informational": str, "severity": ref("Severity"), "severity_source": str, "known_exploited": boolean, "epss": map[string]any{"type": "number"},
			"epss_percentile": map[string]any{"type": "number"}, "fixed_in": strList, "sources": strList, "first_seen_at": dtime, "last_seen_at": dtime,
			"resolved_at": dtime, "vex": ref("VEXStatement")}),
		"FindingPage": pageOf("Finding"),
		"SBOMImport": obj([]string{"sbom", "findings"}, map[string]any{"sbom": ref("SBOM"), "replaced": ref("SBOM"),
			"findings":    obj(nil, map[string]any{"versions": integ, "open": integ, "updated": integ, "resolved": integ, "at": dtime, "new": map[string]any{"type": "array", "items": ref("Finding")}}),
			"carried_vex": map[string]any{"type": "array", "items": ref("VEXStatement")}}),
		"ImpactEntry": obj([]string{"device_version_id", "product_name", "version", "component"}, map[string]any{"device_version_id": integ, "product_id": integ,
			"product_name": str, "version": str, "component_key": str, "component": ref("Component"), "sources": strList, "advisory": str, "aliases": strList,
			"severity": ref("Severity"), "fixed_in": strList, "known_exploited": boolean, "epss": map[string]any{"type": "number"}, "first_seen_at": dtime, "vex": ref("VEXStatement")}),
		"Impact": obj([]string{"query", "ids", "affected"}, map[string]any{"query": str, "ids": strList, "advisories": strList, "withdrawn": strList, "summary": str,
			"severity": ref("Severity"), "known_exploited": boolean, "affected": map[string]any{"type": "array", "items": ref("ImpactEntry")},
			"device_versions": integ, "products": integ, "triage": map[string]any{"type": "object", "additionalProperties": integ}, "elapsed_ms": map[string]any{"type": "number"}}),
		"EvidenceUpload": obj([]string{"file", "link"}, map[string]any{"file": map[string]any{"type": "string", "format": "binary"}, "title": str,
			"link": map[string]any{"type": "array", "items": str}}),
	}
	paths := map[string]any{}
	for _, rt := range s.routes {
		if !rt.API {
			continue
		}
		key := rt.Method + " " + rt.Pattern
		d := apiDocs[key]
		op := map[string]any{"summary": d.summary, "operationId": opID(rt.Method, rt.Pattern)}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(rt.Pattern, -1) {
			schema := integ
			if m[1] == "rid" || m[1] == "aid" || m[1] == "ref" {
				schema = str
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
		}
		if (strings.HasSuffix(rt.Pattern, "s") || strings.HasSuffix(rt.Pattern, "/findings/new")) && rt.Method == "GET" && strings.HasPrefix(rt.Pattern, "/api/v1/") {
			params = append(params,
				map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
				map[string]any{"name": "offset", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 0, "default": 0}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if d.body != "" {
			ct := "application/json"
			if d.body == "EvidenceUpload" || d.body == "SBOMUpload" {
				ct = "multipart/form-data"
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{ct: map[string]any{"schema": ref(d.body)}}}
		}
		ok := map[string]any{"description": "OK"}
		if d.resp != "" {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(d.resp)}}
		}
		errResp := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}
		responses := map[string]any{d.status: ok, "default": errResp}
		if rt.Perm != "" {
			responses["401"] = errResp
			responses["403"] = errResp
			op["security"] = []any{map[string]any{"bearer": []any{}}, map[string]any{"session": []any{}}}
		} else {
			op["security"] = []any{}
		}
		op["responses"] = responses
		oapiPath := rt.Pattern
		item, _ := paths[oapiPath].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[oapiPath] = item
		}
		item[strings.ToLower(rt.Method)] = op
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "Vigil API", "version": s.cfg.Version,
			"description": "Products, device versions, requirement assessments and evidence. Authenticate with `Authorization: Bearer <token>` (create tokens on the Account page)."},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookie},
			},
		},
	}
}

func opID(method, pattern string) string {
	parts := strings.FieldsFunc(pattern, func(r rune) bool { return r == '/' || r == '{' || r == '}' || r == '.' })
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, p := range parts {
		if p == "api" || p == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, s.openAPIDoc())
}
