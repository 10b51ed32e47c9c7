package tlsbackend_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pingora-go/pingora/tlsbackend"
	"github.com/pingora-go/pingora/tlsbackend/tlstest"
)

func TestCertStore_Get(t *testing.T) {
	ca := tlstest.NewCA(t, "root")
	def := ca.Server(t, tlstest.ECDSAP256, "default.example.com")
	wild := ca.Server(t, tlstest.ECDSAP256, "*.wild.example.com")
	exact := ca.Server(t, tlstest.ECDSAP256, "x.wild.example.com")
	dup := ca.Server(t, tlstest.ECDSAP256, "default.example.com", "dup.example.com")
	store, err := tlsbackend.NewCertStore(def, wild, exact, dup)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, sni   string
		want        *tlsbackend.Certificate
		wantMatched bool
	}{
		{"exact", "default.example.com", def, true},
		{"case-insensitive", "DEFAULT.Example.COM", def, true},
		{"trailing dot", "default.example.com.", def, true},
		{"wildcard", "y.wild.example.com", wild, true},
		{"exact beats wildcard listed first", "x.wild.example.com", exact, true},
		{"wildcard covers one label only", "a.b.wild.example.com", def, false},
		{"wildcard does not cover its parent", "wild.example.com", def, false},
		{"first certificate wins a duplicate name", "default.example.com", def, true},
		{"second name of a later certificate", "dup.example.com", dup, true},
		{"unknown", "other.example.com", def, false},
		{"empty", "", def, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, matched := store.Get(tc.sni)
			if got != tc.want || matched != tc.wantMatched {
				t.Errorf("Get(%q) = %v, %v; want %v, %v", tc.sni, got.Leaf().DNSNames, matched, tc.want.Leaf().DNSNames, tc.wantMatched)
			}
		})
	}
}

func TestCertStore_Set(t *testing.T) {
	ca := tlstest.NewCA(t, "root")
	a := ca.Server(t, tlstest.ECDSAP256, "a.example.com")
	b := ca.Server(t, tlstest.ECDSAP256, "b.example.com")
	store, err := tlsbackend.NewCertStore(a)
	if err != nil {
		t.Fatal(err)
	}
	if g := store.Generation(); g != 0 {
		t.Errorf("Generation = %d, want 0", g)
	}
	if err := store.Set(); err == nil {
		t.Error("Set() with no certificates succeeded")
	}
	if err := store.Set(a, nil); err == nil {
		t.Error("Set with a nil certificate succeeded")
	}
	if g := store.Generation(); g != 0 {
		t.Errorf("failed Set changed Generation to %d", g)
	}
	if err := store.Set(b, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Get(""); got != b {
		t.Error("default did not change to the first certificate of Set")
	}
	if g := store.Generation(); g != 1 {
		t.Errorf("Generation = %d, want 1", g)
	}
	if got := store.Certificates(); len(got) != 2 || got[0] != b || got[1] != a {
		t.Errorf("Certificates() = %v", got)
	}
	if err := store.Reload(); !errors.Is(err, tlsbackend.ErrNoFiles) {
		t.Errorf("Reload on a memory store: %v, want ErrNoFiles", err)
	}
	if _, err := tlsbackend.NewCertStore(); err == nil {
		t.Error("NewCertStore() succeeded")
	}
}

func TestCertStore_Reload(t *testing.T) {
	ca := tlstest.NewCA(t, "root")
	dir := t.TempDir()
	one := ca.Server(t, tlstest.ECDSAP256, "a.example.com")
	two := ca.Server(t, tlstest.RSA2048, "a.example.com")
	f := tlstest.WriteFiles(t, dir, "a", one)
	store, err := tlsbackend.LoadCertStore(f)
	if err != nil {
		t.Fatal(err)
	}
	serial := func() string { c, _ := store.Get("a.example.com"); return c.Leaf().SerialNumber.String() }
	if serial() != one.Leaf().SerialNumber.String() {
		t.Fatal("loaded the wrong certificate")
	}
	tlstest.WriteFiles(t, dir, "a", two)
	if err := store.Reload(); err != nil {
		t.Fatal(err)
	}
	if serial() != two.Leaf().SerialNumber.String() {
		t.Error("Reload did not pick up the new file")
	}
	// A key that does not match the certificate: rejected, old set kept.
	_, keyPEM := tlstest.PEM(t, one)
	if err := os.WriteFile(f.KeyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	err = store.Reload()
	if err == nil || !strings.Contains(err.Error(), f.KeyFile) {
		t.Errorf("Reload with a mismatched key: %v, want an error naming %s", err, f.KeyFile)
	}
	if serial() != two.Leaf().SerialNumber.String() {
		t.Error("failed Reload replaced the certificate")
	}
	if _, err := tlsbackend.LoadCertStore(tlsbackend.CertFile{CertFile: filepath.Join(dir, "missing.crt"), KeyFile: f.KeyFile}); err == nil {
		t.Error("LoadCertStore of a missing file succeeded")
	}
	if _, err := tlsbackend.LoadCertStore(); err == nil {
		t.Error("LoadCertStore() succeeded")
	}
}

func TestCertStore_ConcurrentSafe(t *testing.T) {
	ca := tlstest.NewCA(t, "root")
	a := ca.Server(t, tlstest.ECDSAP256, "a.example.com")
	b := ca.Server(t, tlstest.ECDSAP256, "a.example.com")
	store, err := tlsbackend.NewCertStore(a)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				if c, ok := store.Get("a.example.com"); !ok || (c != a && c != b) {
					t.Error("Get saw a torn set")
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			store.Set([]*tlsbackend.Certificate{a, b}[i%2])
		}
	})
	wg.Wait()
}

func TestNewCertificate(t *testing.T) {
	ca := tlstest.NewCA(t, "root")
	a := ca.Server(t, tlstest.ECDSAP256, "a.example.com")
	b := ca.Server(t, tlstest.ECDSAP256, "b.example.com")
	caDER := ca.Cert.Raw
	for _, tc := range []struct {
		name    string
		chain   [][]byte
		ok      bool
		wantErr string
	}{
		{"leaf only", a.Chain(), true, ""},
		{"leaf and CA", [][]byte{a.Chain()[0], caDER}, true, ""},
		{"empty chain", nil, false, "empty certificate chain"},
		{"garbage leaf", [][]byte{[]byte("nope")}, false, "parse leaf"},
		{"garbage intermediate", [][]byte{a.Chain()[0], []byte("nope")}, false, "chain certificate 1"},
		{"key of another certificate", b.Chain(), false, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tlsbackend.NewCertificate(tc.chain, a.PrivateKey())
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if c.Leaf().Subject.CommonName != "a.example.com" || c.TLSCertificate().Leaf != c.Leaf() {
					t.Error("accessors disagree")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
	if _, err := tlsbackend.NewCertificate(a.Chain(), nil); err == nil {
		t.Error("nil key accepted")
	}
}

func TestParseCertificate(t *testing.T) {
	ca := tlstest.NewCA(t, "root")
	a := ca.Server(t, tlstest.ECDSAP256, "a.example.com")
	certPEM, keyPEM := tlstest.PEM(t, a)
	c, err := tlsbackend.ParseCertificate(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Leaf().Equal(a.Leaf()) {
		t.Error("parsed a different certificate")
	}
	if _, err := tlsbackend.ParseCertificate(certPEM, []byte("no key")); err == nil {
		t.Error("garbage key accepted")
	}
	if _, err := tlsbackend.LoadCertificate("/nonexistent/a.crt", "/nonexistent/a.key"); err == nil {
		t.Error("missing files accepted")
	}
}

func FuzzParseCertificate(f *testing.F) {
	ca := tlstest.NewCA(f, "root")
	certPEM, keyPEM := tlstest.PEM(f, ca.Server(f, tlstest.ECDSAP256, "a.example.com"))
	f.Add(certPEM, keyPEM)
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), keyPEM)
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, certPEM, keyPEM []byte) {
		c, err := tlsbackend.ParseCertificate(certPEM, keyPEM)
		if err == nil && (c.Leaf() == nil || len(c.Chain()) == 0) {
			t.Error("success without a leaf")
		}
		if err != nil && !strings.HasPrefix(err.Error(), "tlsbackend: ") {
			t.Errorf("error without package prefix: %v", err)
		}
	})
}
