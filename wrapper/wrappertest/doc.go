// Package wrappertest runs a local AISquare Studio API for tests: what
// stripe-mock is to stripe-go. [NewServer] starts an in-process server on
// loopback that answers like the real backend (Django REST Framework with
// SimpleJWT), with switchable rotation and blacklist, settable lifetimes and
// clock, a protected route, fault injection and request counts.
//
// Point a client at it with wrapper.WithBaseURL(srv.URL), and give it a
// starting pair from [Server.IssuePair].
package wrappertest
