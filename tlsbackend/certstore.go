package tlsbackend

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Certificate is a certificate chain with its private key. It is immutable
// and safe to share between goroutines and stores.
type Certificate struct {
	chain [][]byte
	key   crypto.Signer
	leaf  *x509.Certificate
	tls   tls.Certificate
}

// NewCertificate checks that key belongs to the leaf of chain (DER, leaf
// first) and returns the pair. The chain may omit the root.
func NewCertificate(chain [][]byte, key crypto.Signer) (*Certificate, error) {
	if len(chain) == 0 {
		return nil, errors.New("tlsbackend: empty certificate chain")
	}
	if key == nil {
		return nil, errors.New("tlsbackend: nil private key")
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("tlsbackend: parse leaf certificate: %w", err)
	}
	for i, der := range chain[1:] {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("tlsbackend: parse chain certificate %d: %w", i+1, err)
		}
	}
	pub, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, errors.New("tlsbackend: private key does not match the leaf certificate")
	}
	c := &Certificate{chain: cloneChain(chain), key: key, leaf: leaf}
	c.tls = tls.Certificate{Certificate: c.chain, PrivateKey: key, Leaf: leaf}
	return c, nil
}

// ParseCertificate parses a PEM certificate chain (leaf first) and a PEM
// private key (PKCS #1, PKCS #8 or SEC 1).
func ParseCertificate(certPEM, keyPEM []byte) (*Certificate, error) {
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tlsbackend: %w", err)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("tlsbackend: unsupported private key type %T", pair.PrivateKey)
	}
	return NewCertificate(pair.Certificate, key)
}

// LoadCertificate reads a PEM certificate chain and a PEM private key from
// files (they may be the same file).
func LoadCertificate(certFile, keyFile string) (*Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("tlsbackend: read certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlsbackend: read key: %w", err)
	}
	c, err := ParseCertificate(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w (files %s, %s)", err, certFile, keyFile)
	}
	return c, nil
}

// Leaf returns the parsed leaf certificate. Do not modify it.
func (c *Certificate) Leaf() *x509.Certificate { return c.leaf }

// Chain returns the DER chain, leaf first. Do not modify it.
func (c *Certificate) Chain() [][]byte { return c.chain }

// PrivateKey returns the leaf's private key.
func (c *Certificate) PrivateKey() crypto.Signer { return c.key }

// TLSCertificate returns the pair as a crypto/tls certificate, with Leaf set.
// Do not modify it.
func (c *Certificate) TLSCertificate() *tls.Certificate { return &c.tls }

func cloneChain(chain [][]byte) [][]byte {
	out := make([][]byte, len(chain))
	for i, der := range chain {
		out[i] = append([]byte(nil), der...)
	}
	return out
}

// CertFile names a PEM certificate chain file and its key file.
type CertFile struct {
	CertFile, KeyFile string
}

// CertStore holds the certificates a server chooses from by SNI. The set is
// swapped atomically: a handshake sees either the old set or the new one,
// never a mix, and handshakes never wait for Set or Reload. All methods are
// safe for concurrent use.
//
// A certificate matches the DNS names in its subject alternative names
// (case-insensitively, without a trailing dot); "*.example.com" matches
// exactly one label in front of example.com. Exact names win over
// wildcards; among certificates with the same name, the earlier one wins. The
// first certificate is the default, served when nothing matches.
type CertStore struct {
	cur   atomic.Pointer[certSet]
	mu    sync.Mutex // serialises Set and Reload
	files []CertFile
}

type certSet struct {
	gen      uint64
	all      []*Certificate
	exact    map[string]*Certificate
	wildcard map[string]*Certificate // keyed by the name after "*."
}

// NewCertStore returns a store holding certs; the first is the default.
func NewCertStore(certs ...*Certificate) (*CertStore, error) {
	s := &CertStore{}
	if err := s.Set(certs...); err != nil {
		return nil, err
	}
	return s, nil
}

// LoadCertStore loads each file pair; the first is the default. Reload reads
// the same files again.
func LoadCertStore(files ...CertFile) (*CertStore, error) {
	s := &CertStore{files: append([]CertFile(nil), files...)}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// Set replaces the certificates; the first is the default. New handshakes
// use the new set at once; running ones finish with the certificate they
// chose.
func (s *CertStore) Set(certs ...*Certificate) error {
	if len(certs) == 0 {
		return errors.New("tlsbackend: CertStore needs at least one certificate")
	}
	for i, c := range certs {
		if c == nil {
			return fmt.Errorf("tlsbackend: certificate %d is nil", i)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(certs)
	return nil
}

// s.mu must be held.
func (s *CertStore) store(certs []*Certificate) {
	set := &certSet{
		all:      append([]*Certificate(nil), certs...),
		exact:    make(map[string]*Certificate),
		wildcard: make(map[string]*Certificate),
	}
	if old := s.cur.Load(); old != nil {
		set.gen = old.gen + 1
	}
	for _, c := range certs {
		for _, name := range c.leaf.DNSNames {
			name = normalizeName(name)
			m, key := set.exact, name
			if rest, ok := strings.CutPrefix(name, "*."); ok {
				m, key = set.wildcard, rest
			}
			if _, dup := m[key]; !dup && key != "" {
				m[key] = c
			}
		}
	}
	s.cur.Store(set)
}

// ErrNoFiles is returned by Reload on a store not made by LoadCertStore.
var ErrNoFiles = errors.New("tlsbackend: CertStore was not loaded from files")

// Reload reads the files given to LoadCertStore again and swaps them in. On
// any error the current certificates stay in use and the error names the
// file that failed.
func (s *CertStore) Reload() error {
	if len(s.files) == 0 {
		return ErrNoFiles
	}
	s.mu.Lock() // held while reading, so concurrent reloads land in order
	defer s.mu.Unlock()
	certs := make([]*Certificate, 0, len(s.files))
	for _, f := range s.files {
		c, err := LoadCertificate(f.CertFile, f.KeyFile)
		if err != nil {
			return err
		}
		certs = append(certs, c)
	}
	s.store(certs)
	return nil
}

// Get returns the certificate for an SNI name. If no certificate matches
// (or serverName is empty) it returns the default certificate and false.
func (s *CertStore) Get(serverName string) (cert *Certificate, matched bool) {
	set := s.cur.Load()
	if serverName != "" {
		name := normalizeName(serverName)
		if c, ok := set.exact[name]; ok {
			return c, true
		}
		if _, parent, ok := strings.Cut(name, "."); ok {
			if c, ok := set.wildcard[parent]; ok {
				return c, true
			}
		}
	}
	return set.all[0], false
}

// Certificates returns the current certificates, default first.
func (s *CertStore) Certificates() []*Certificate {
	return append([]*Certificate(nil), s.cur.Load().all...)
}

// Generation counts the swaps: it starts at 0 and grows by one on each Set
// or successful Reload. Backends use it to drop caches built from an older
// set.
func (s *CertStore) Generation() uint64 { return s.cur.Load().gen }

func normalizeName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}
