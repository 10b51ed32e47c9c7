package listener

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
)

// Table is the set of listening sockets that survive a graceful upgrade,
// keyed by each socket's configured address string (Config.Addr, exactly as
// written): Pingora's FD table. The old process binds through a Table and,
// when asked to hand over, sends [Table.Files]; the new process builds its
// Table with [NewTable] from what it received, and [Table.Listen] then
// adopts the inherited socket for each address instead of binding a new
// one, so not one connection is refused during the upgrade.
//
// A Table is safe for concurrent use. The zero value is not usable; call
// NewTable.
type Table struct {
	mu        sync.Mutex
	inherited map[string]*os.File  // received, not yet adopted
	open      map[string]*Listener // bound or adopted here, not closed
	pending   map[string]struct{}  // being bound or adopted right now
}

// NewTable returns a Table holding the inherited sockets, keyed by address
// string; nil or empty means a fresh start. The Table takes ownership of the
// files: it closes each one when it is adopted or by [Table.CloseInherited].
func NewTable(inherited map[string]*os.File) *Table {
	t := &Table{
		inherited: make(map[string]*os.File, len(inherited)),
		open:      make(map[string]*Listener),
		pending:   make(map[string]struct{}),
	}
	for k, f := range inherited {
		t.inherited[k] = f
	}
	return t
}

// Listen returns a listener for cfg: the inherited socket under cfg.Addr if
// there is one (see [FileListener]), else a new one (see [Listen]). The
// listener is recorded under cfg.Addr until it is closed. Listen fails if
// this Table already has an open listener for cfg.Addr. An inherited socket
// that does not match cfg is closed and Listen fails: a Table never binds a
// second socket for an address it inherited.
func (t *Table) Listen(ctx context.Context, cfg Config) (*Listener, error) {
	key := cfg.Addr
	t.mu.Lock()
	if _, busy := t.pending[key]; busy || t.open[key] != nil {
		t.mu.Unlock()
		return nil, fmt.Errorf("listener: %s is already listening in this process", key)
	}
	f := t.inherited[key]
	delete(t.inherited, key)
	t.pending[key] = struct{}{}
	t.mu.Unlock()

	var l *Listener
	var err error
	if f != nil {
		l, err = FileListener(f, cfg)
		f.Close()
	} else {
		l, err = Listen(ctx, cfg)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, key)
	if err != nil {
		return nil, err
	}
	l.table = t
	t.open[key] = l
	return l, nil
}

// forget drops a closing listener.
func (t *Table) forget(l *Listener) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open[l.cfg.Addr] == l {
		delete(t.open, l.cfg.Addr)
	}
}

// Files returns a duplicate of every open listener's socket with its key,
// in key order, keys[i] naming files[i]: what an upgrade sends to the next
// process. A listener closing meanwhile is left out. The caller must close
// the files. Unix socket files are no longer removed when their listeners
// close (see [Listener.File]).
func (t *Table) Files() (keys []string, files []*os.File, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sorted := make([]string, 0, len(t.open))
	for k := range t.open {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	keys = make([]string, 0, len(sorted))
	files = make([]*os.File, 0, len(sorted))
	for _, k := range sorted {
		f, err := t.open[k].File()
		if errors.Is(err, net.ErrClosed) {
			continue
		}
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, nil, err
		}
		keys = append(keys, k)
		files = append(files, f)
	}
	return keys, files, nil
}

// CloseInherited closes the inherited sockets that no Listen call adopted,
// so the kernel stops queueing connections nobody will accept, and returns
// their keys in order. Call it once every listener has been set up.
func (t *Table) CloseInherited() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.inherited))
	for k, f := range t.inherited {
		f.Close()
		keys = append(keys, k)
	}
	clear(t.inherited)
	slices.Sort(keys)
	return keys
}
