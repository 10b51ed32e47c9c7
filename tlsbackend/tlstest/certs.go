package tlstest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pingora-go/pingora/tlsbackend"
)

// KeyType selects the key algorithm of generated certificates.
type KeyType int

const (
	// ECDSAP256 is ECDSA on P-256, the default.
	ECDSAP256 KeyType = iota
	// RSA2048 is 2048-bit RSA.
	RSA2048
)

// String returns "ecdsa-p256" or "rsa-2048".
func (k KeyType) String() string {
	if k == RSA2048 {
		return "rsa-2048"
	}
	return "ecdsa-p256"
}

// CA is a throwaway certificate authority for tests.
type CA struct {
	// Cert is the self-signed root.
	Cert *x509.Certificate
	key  crypto.Signer
}

var serial atomic.Int64

// NewCA returns a new root CA with an ECDSA P-256 key.
func NewCA(tb testing.TB, name string) *CA {
	tb.Helper()
	key := newKey(tb, ECDSAP256)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatalf("tlstest: create CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("tlstest: parse CA: %v", err)
	}
	return &CA{Cert: cert, key: key}
}

// Server issues a server certificate for names (DNS names or IP
// addresses); the first name is also the common name.
func (ca *CA) Server(tb testing.TB, kt KeyType, names ...string) *tlsbackend.Certificate {
	tb.Helper()
	return ca.issue(tb, kt, x509.ExtKeyUsageServerAuth, names)
}

// Client issues a client certificate with common name cn.
func (ca *CA) Client(tb testing.TB, kt KeyType, cn string) *tlsbackend.Certificate {
	tb.Helper()
	return ca.issue(tb, kt, x509.ExtKeyUsageClientAuth, []string{cn})
}

func (ca *CA) issue(tb testing.TB, kt KeyType, usage x509.ExtKeyUsage, names []string) *tlsbackend.Certificate {
	tb.Helper()
	key := newKey(tb, kt)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if kt == RSA2048 {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	if len(names) > 0 {
		tmpl.Subject.CommonName = names[0]
	}
	if usage == x509.ExtKeyUsageServerAuth {
		for _, n := range names {
			if ip := net.ParseIP(n); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, n)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.key)
	if err != nil {
		tb.Fatalf("tlstest: issue certificate: %v", err)
	}
	cert, err := tlsbackend.NewCertificate([][]byte{der}, key)
	if err != nil {
		tb.Fatalf("tlstest: %v", err)
	}
	return cert
}

func newKey(tb testing.TB, kt KeyType) crypto.Signer {
	tb.Helper()
	var key crypto.Signer
	var err error
	switch kt {
	case RSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		tb.Fatalf("tlstest: generate %v key: %v", kt, err)
	}
	return key
}

// PEM returns the certificate chain and the PKCS #8 private key of c as PEM.
func PEM(tb testing.TB, c *tlsbackend.Certificate) (certPEM, keyPEM []byte) {
	tb.Helper()
	for _, der := range c.Chain() {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey())
	if err != nil {
		tb.Fatalf("tlstest: marshal key: %v", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// WriteFiles writes c as PEM to dir/name.crt and dir/name.key (replacing
// them atomically) and returns the file names.
func WriteFiles(tb testing.TB, dir, name string, c *tlsbackend.Certificate) tlsbackend.CertFile {
	tb.Helper()
	certPEM, keyPEM := PEM(tb, c)
	f := tlsbackend.CertFile{CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key")}
	for path, data := range map[string][]byte{f.CertFile: certPEM, f.KeyFile: keyPEM} {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			tb.Fatalf("tlstest: %v", err)
		}
		if err := os.Rename(tmp, path); err != nil {
			tb.Fatalf("tlstest: %v", err)
		}
	}
	return f
}
