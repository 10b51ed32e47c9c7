package connector

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"syscall"

	perr "github.com/pingora-go/pingora/errors"
	"github.com/pingora-go/pingora/tlsbackend"
)

// connectErrorType maps an OS connect error to its ErrorType as Pingora
// does (connectors/l4.rs).
func connectErrorType(err error) perr.ErrorType {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return perr.ConnectRefused
	case isTimeout(err), errors.Is(err, syscall.ETIMEDOUT):
		return perr.ConnectTimedout
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return perr.ConnectNoRoute
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return perr.BindError
	case errors.Is(err, syscall.EADDRINUSE), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return perr.InternalError
	}
	return perr.ConnectError
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isCertError reports whether err is a certificate verification failure.
func isCertError(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		ua  x509.UnknownAuthorityError
		he  x509.HostnameError
		ci  x509.CertificateInvalidError
		sr  x509.SystemRootsError
	)
	return errors.Is(err, tlsbackend.ErrCertificateVerify) ||
		errors.As(err, &cve) || errors.As(err, &ua) || errors.As(err, &he) ||
		errors.As(err, &ci) || errors.As(err, &sr)
}
