package server

// Phase is a step in the life of a [Server]: Pingora's ExecutionPhase.
// Phases only move forward, except that a failed upgrade returns from
// PhaseGracefulUpgradeTransferringFDs or PhaseGracefulUpgradeCloseTimeout
// to PhaseRunning.
type Phase int32

// The phases in order.
const (
	// PhaseSetup: the server is being configured; Run has not been called.
	PhaseSetup Phase = iota
	// PhaseBootstrap: Run is receiving inherited sockets (with -u) and
	// binding listeners.
	PhaseBootstrap
	// PhaseBootstrapComplete: every listener is bound; services start.
	PhaseBootstrapComplete
	// PhaseRunning: services run and the server waits for a signal.
	PhaseRunning
	// PhaseGracefulUpgradeTransferringFDs: SIGQUIT came; the sockets are
	// being sent to the new process.
	PhaseGracefulUpgradeTransferringFDs
	// PhaseGracefulUpgradeCloseTimeout: the sockets were sent; the server
	// waits for the new process to say it serves (where Pingora sleeps 5 s).
	PhaseGracefulUpgradeCloseTimeout
	// PhaseGracefulTerminate: SIGTERM (or the context) asked for a
	// graceful shutdown.
	PhaseGracefulTerminate
	// PhaseShutdownStarted: the listeners are closed and apps told to
	// finish.
	PhaseShutdownStarted
	// PhaseShutdownGracePeriod: waiting for connections and background
	// services to return, at most the grace period.
	PhaseShutdownGracePeriod
	// PhaseShutdownRuntimes: closing what is left, waiting at most the
	// graceful shutdown timeout.
	PhaseShutdownRuntimes
	// PhaseTerminated: Run is returning.
	PhaseTerminated
)

var phaseNames = [...]string{
	"Setup", "Bootstrap", "BootstrapComplete", "Running",
	"GracefulUpgradeTransferringFds", "GracefulUpgradeCloseTimeout", "GracefulTerminate",
	"ShutdownStarted", "ShutdownGracePeriod", "ShutdownRuntimes", "Terminated",
}

// String returns Pingora's name of the phase, e.g. "ShutdownGracePeriod".
func (p Phase) String() string {
	if p >= 0 && int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "Phase(" + itoa(int(p)) + ")"
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// WatchPhase returns the current phase and a channel that is closed when
// it next changes (Pingora's watch_execution_phase):
//
//	for {
//		p, changed := s.WatchPhase()
//		if p == server.PhaseTerminated { break }
//		<-changed
//	}
func (s *Server) WatchPhase() (Phase, <-chan struct{}) {
	s.phaseMu.Lock()
	defer s.phaseMu.Unlock()
	return s.phase, s.phaseCh
}

// setPhase records p and wakes the watchers.
func (s *Server) setPhase(p Phase) {
	s.phaseMu.Lock()
	defer s.phaseMu.Unlock()
	if s.phase == p {
		return
	}
	s.phase = p
	close(s.phaseCh)
	s.phaseCh = make(chan struct{})
	if s.onPhase != nil {
		s.onPhase(p)
	}
}
