package ocir

// RequestDeadline is the role's bound on one exec, for the external tests
// that check an exec against a misbehaving endpoint ends within it.
const RequestDeadline = requestDeadline
