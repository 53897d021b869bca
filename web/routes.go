package web

import (
	"net/http"

	"github.com/vigil-med/vigil/auth"
)

// routeTable is every route of the application with the permission it needs. The role-matrix
// test walks this table, so a route cannot be added without a permission decision.
func (s *Server) routeTable() []Route {
	pub := auth.Permission("")
	r := func(method, pattern string, perm auth.Permission, h func(http.ResponseWriter, *http.Request) error) Route {
		return Route{Method: method, Pattern: pattern, Perm: perm, handler: h}
	}
	api := func(method, pattern string, perm auth.Permission, h func(http.ResponseWriter, *http.Request) error) Route {
		return Route{Method: method, Pattern: pattern, Perm: perm, API: true, handler: h}
	}
	return []Route{
		// Operations.
		{Method: "GET", Pattern: "/healthz", Perm: pub, API: true, handler: s.healthz},
		{Method: "GET", Pattern: "/metrics", Perm: pub, API: true, handler: s.metricsHandler},
		{Method: "GET", Pattern: "/api/openapi.json", Perm: pub, API: true, handler: s.openAPI},

		// Sign-in.
		r("GET", "/login", pub, s.loginForm),
		r("POST", "/login", pub, s.login),
		r("POST", "/logout", pub, s.logout),
		r("GET", "/setup", pub, s.setupForm),
		r("POST", "/setup", pub, s.setup),

		// Pages.
		r("GET", "/{$}", auth.PermRead, s.dashboard),
		r("GET", "/products/new", auth.PermEdit, s.newProductForm),
		r("POST", "/products", auth.PermEdit, s.createProduct),
		r("GET", "/products/{id}", auth.PermRead, s.productView),
		r("POST", "/products/{id}/versions", auth.PermEdit, s.createVersion),
		r("GET", "/versions/{id}", auth.PermRead, s.versionView),
		r("GET", "/versions/{id}/requirements/{rid}", auth.PermRead, s.requirementView),
		r("POST", "/versions/{id}/requirements/{rid}", auth.PermEdit, s.updateAssessment),
		r("POST", "/versions/{id}/evidence", auth.PermEdit, s.uploadEvidence),
		r("GET", "/evidence/{eid}/download", auth.PermRead, s.downloadEvidence),
		r("GET", "/versions/{id}/findings", auth.PermRead, s.findingsView),
		r("POST", "/versions/{id}/sboms", auth.PermEdit, s.uploadSBOM),
		r("POST", "/versions/{id}/vex", auth.PermEdit, s.setVEX),
		r("GET", "/sboms/{sid}", auth.PermRead, s.sbomView),
		r("POST", "/sboms/{sid}/support", auth.PermEdit, s.uploadSupport),
		r("POST", "/sboms/{sid}/components/support", auth.PermEdit, s.setComponentSupport),
		r("GET", "/sboms/{sid}/support-template", auth.PermRead, s.supportTemplate),
		r("GET", "/vulnerabilities", auth.PermRead, s.vulnerabilitiesView),
		r("GET", "/catalog", auth.PermRead, s.catalogView),
		r("GET", "/catalog/{id}", auth.PermRead, s.catalogItem),
		r("GET", "/audit", auth.PermAdmin, s.auditView),
		r("GET", "/admin/users", auth.PermAdmin, s.usersView),
		r("POST", "/admin/users", auth.PermAdmin, s.createUser),
		r("POST", "/admin/users/{uid}", auth.PermAdmin, s.updateUser),
		r("GET", "/account", auth.PermRead, s.accountView),
		r("POST", "/account/tokens", auth.PermRead, s.createToken),
		r("POST", "/account/tokens/{tid}/revoke", auth.PermRead, s.revokeToken),

		// REST API.
		api("GET", "/api/v1/products", auth.PermRead, s.apiListProducts),
		api("POST", "/api/v1/products", auth.PermEdit, s.apiCreateProduct),
		api("GET", "/api/v1/products/{id}", auth.PermRead, s.apiProduct),
		api("GET", "/api/v1/products/{id}/versions", auth.PermRead, s.apiListVersions),
		api("POST", "/api/v1/products/{id}/versions", auth.PermEdit, s.apiCreateVersion),
		api("GET", "/api/v1/versions/{id}", auth.PermRead, s.apiVersion),
		api("GET", "/api/v1/versions/{id}/requirements", auth.PermRead, s.apiRequirements),
		api("PUT", "/api/v1/versions/{id}/assessments/{rid}", auth.PermEdit, s.apiSetAssessment),
		api("GET", "/api/v1/versions/{id}/evidence", auth.PermRead, s.apiListEvidence),
		api("POST", "/api/v1/versions/{id}/evidence", auth.PermEdit, s.apiUploadEvidence),
		api("GET", "/api/v1/evidence/{eid}", auth.PermRead, s.apiEvidence),
		api("GET", "/api/v1/evidence/{eid}/content", auth.PermRead, s.downloadEvidence),
		api("POST", "/api/v1/versions/{id}/sboms", auth.PermEdit, s.apiUploadSBOM),
		api("GET", "/api/v1/versions/{id}/sboms", auth.PermRead, s.apiListSBOMs),
		api("GET", "/api/v1/sboms/{sid}/components", auth.PermRead, s.apiSBOMComponents),
		api("PUT", "/api/v1/sboms/{sid}/components/{ref}/support", auth.PermEdit, s.apiSetComponentSupport),
		api("GET", "/api/v1/versions/{id}/findings", auth.PermRead, s.apiListFindings),
		api("PUT", "/api/v1/versions/{id}/findings/vex", auth.PermEdit, s.apiSetVEX), // not_affected/fixed: approvers (checked in the handler)
		api("GET", "/api/v1/versions/{id}/vex", auth.PermRead, s.apiExportVEX),
		api("GET", "/api/v1/advisories/{aid}/impact", auth.PermRead, s.apiImpact),
		api("GET", "/api/v1/findings/new", auth.PermRead, s.apiNewFindings),
	}
}
