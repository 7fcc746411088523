// TLS flags shared by the roles that serve or dial DERP. TLS is the default;
// plain HTTP is an explicit opt-in (--plain-http) for tests, since without
// TLS the path sees who talks to whom and can replay a captured ClientInfo
// (docs/PROTOCOL.md, "DERP over TLS").
//
// Serving: --tls-cert FILE --tls-key FILE, or else a self-signed certificate
// made at start for --tls-name and the listen address (its pin is printed);
// --tls-keylog FILE logs the sessions' secrets for Wireshark.
// Dialing: --cert-name (a name, or "sha256-raw:<hex>" to pin a certificate)
// or --insecure-for-tests; with neither, the certificate must be valid for
// the server's address under the system's roots.
#pragma once

#include <boost/program_options.hpp>

#include <memory>
#include <optional>

#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"
#include "realio/tls-context.h"

namespace punchlab::cli {

void AddTlsServeOptions(boost::program_options::options_description& options);
// nullptr with --plain-http. Throws UsageError for conflicting flags and
// realio::TlsError for unreadable files.
std::shared_ptr<realio::TlsServerContext> TlsServerFromFlags(
    const boost::program_options::variables_map& vm, const Endpoint& listen);

void AddTlsDialOptions(boost::program_options::options_description& options);
// nullopt with --plain-http. Throws UsageError for conflicting flags.
std::optional<TlsDial> TlsDialFromFlags(const boost::program_options::variables_map& vm);

}  // namespace punchlab::cli
