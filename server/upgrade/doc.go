// Package upgrade hands listening sockets from a running process to its
// replacement over a Unix socket, so that a new binary takes over without
// refusing a single connection: the transfer step of Pingora's graceful
// upgrade (pingora-core server/transfer_fd).
//
// The new process calls [Receive], which listens on the upgrade socket and
// waits for the old one; the old process calls [Send] with the sockets and
// the address each listens on. Both wait for the other side, so they may
// start in either order. The message is Pingora's: the addresses joined by
// single spaces, with every descriptor in one SCM_RIGHTS control message.
// pingora-go adds one step: once the new process serves, it calls
// [Received.Ack] and the old one, waiting in [Handoff.Wait], learns that it
// may stop accepting. A receiver that fails before acknowledging closes the
// connection, and the old process keeps serving.
//
//	// new process (started with -u)
//	got, err := upgrade.Receive(ctx, "/tmp/pingora_upgrade.sock")
//	// ... adopt got.Files (listener.NewTable), start serving ...
//	got.Ack()
//
//	// old process, on SIGQUIT
//	h, err := upgrade.Send(ctx, "/tmp/pingora_upgrade.sock", keys, files)
//	if err == nil { err = h.Wait(ctx) } // nil: stop accepting, drain, exit
//
// Every function may be called from any goroutine; a [Handoff] or
// [Received] is used by one goroutine at a time. Unix only: elsewhere Send
// and Receive return [ErrUnsupported].
package upgrade
