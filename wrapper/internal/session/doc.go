// Package session keeps an access token valid: the engine of package
// wrapper's sessions, driven by a refresh function and a store.
//
// A session publishes one immutable [Token] at a time; a change publishes a
// new one. By the clock (Config.Now, else time.Now), read on every call:
//
//	fresh ──staleAt──▶ stale ──expireAt──▶ expired
//	used                used; one refresh       callers wait for a flight,
//	                    in the background       each under its own context
//
// A 401 publishes an expired copy ([Session.Rejected]). A refresh token
// finally rejected publishes a dead copy, whose error is the answer once
// the access token expires, until a new pair appears in the store (read at
// most once a second) or Config.Login gets one.
//
// At most one flight (a refresh, a login, or a dead session's read of its
// store) runs at a time, shared by every caller that needs it. It runs on
// under its own timeout when they give up, so that a rotated refresh token
// reaches the store; under the store's lock it first adopts a pair another
// process saved.
//
// Lock order: the store's lock ([Locker]), then saveMu (orders saves with
// Set), then mu (the flight and the failures; never held across I/O).
package session
