package auth

import "slices"

// Role is what a user may do. Roles are ordered: each includes the rights of those before it,
// except that approval is a separate right held by approvers and admins.
type Role string

// The four roles.
const (
	Viewer   Role = "viewer"   // reads everything
	Editor   Role = "editor"   // creates products and versions, edits assessments, uploads evidence
	Approver Role = "approver" // an editor who may also sign off requirements as met or not applicable
	Admin    Role = "admin"    // everything, including users and tokens of others
)

// Roles lists every role, least privileged first.
var Roles = []Role{Viewer, Editor, Approver, Admin}

// Permission is one right that routes demand.
type Permission string

// Permissions used by routes.
const (
	PermRead    Permission = "read"    // see products, requirements, evidence, audit history
	PermEdit    Permission = "edit"    // change products, versions, assessments, evidence
	PermApprove Permission = "approve" // set a requirement to met or not-applicable
	PermAdmin   Permission = "admin"   // manage users; verify the audit trail
)

var grants = map[Role][]Permission{
	Viewer:   {PermRead},
	Editor:   {PermRead, PermEdit},
	Approver: {PermRead, PermEdit, PermApprove},
	Admin:    {PermRead, PermEdit, PermApprove, PermAdmin},
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Can reports whether the role holds the permission.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[r], p) }
