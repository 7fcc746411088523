#include "node/tls-flags.h"

#include "cli-common/flags.h"

namespace punchlab::cli {

namespace po = boost::program_options;

void AddTlsServeOptions(po::options_description& options) {
  options.add_options()
      ("plain-http", po::bool_switch(),
       "serve plain HTTP instead of TLS (tests only: the path can read and replay)")
      ("tls-cert", po::value<std::string>()->value_name("FILE"),
       "TLS certificate chain (PEM, leaf first); default: a self-signed one made at start")
      ("tls-key", po::value<std::string>()->value_name("FILE"), "its private key (PEM)")
      ("tls-name", po::value<std::string>()->default_value("derp")->value_name("NAME"),
       "the self-signed certificate's name (besides the listen address)")
      ("tls-keylog", po::value<std::string>()->value_name("FILE"),
       "append the TLS sessions' secrets to FILE (NSS key log format, as SSLKEYLOGFILE) "
       "so Wireshark can decrypt captures; labs and tests only");
}

std::shared_ptr<realio::TlsServerContext> TlsServerFromFlags(const po::variables_map& vm,
                                                            const Endpoint& listen) {
  const bool files = vm.count("tls-cert") || vm.count("tls-key");
  if (vm["plain-http"].as<bool>()) {
    if (files || vm.count("tls-keylog")) {
      throw UsageError("--plain-http: not with --tls-cert/--tls-key/--tls-keylog");
    }
    return nullptr;
  }
  std::shared_ptr<realio::TlsServerContext> tls;
  if (files) {
    if (!vm.count("tls-cert") || !vm.count("tls-key")) {
      throw UsageError("--tls-cert and --tls-key: give both or neither");
    }
    tls = realio::TlsServerContext::FromFiles(vm["tls-cert"].as<std::string>(),
                                              vm["tls-key"].as<std::string>());
  } else {
    std::vector<IpAddress> ips;
    if (!listen.ip.IsUnspecified()) ips.push_back(listen.ip);
    tls = realio::TlsServerContext::SelfSigned(vm["tls-name"].as<std::string>(), ips);
  }
  if (vm.count("tls-keylog")) tls->LogKeysTo(vm["tls-keylog"].as<std::string>());
  return tls;
}

void AddTlsDialOptions(po::options_description& options) {
  options.add_options()
      ("plain-http", po::bool_switch(),
       "dial plain HTTP instead of TLS (tests only: the path can read and replay)")
      ("cert-name", po::value<std::string>()->value_name("NAME"),
       "the name the server's certificate must carry, or sha256-raw:HEX to pin it")
      ("insecure-for-tests", po::bool_switch(), "accept any certificate (tests only)");
}

std::optional<TlsDial> TlsDialFromFlags(const po::variables_map& vm) {
  const bool insecure = vm["insecure-for-tests"].as<bool>();
  if (vm["plain-http"].as<bool>()) {
    if (insecure || vm.count("cert-name")) {
      throw UsageError("--plain-http: not with --cert-name/--insecure-for-tests");
    }
    return std::nullopt;
  }
  TlsDial tls;
  tls.insecure_for_tests = insecure;
  if (vm.count("cert-name")) {
    tls.cert_name = vm["cert-name"].as<std::string>();
    const std::string prefix = TlsDial::kPinPrefix;
    if (tls.cert_name.rfind(prefix, 0) == 0) {
      Bytes digest;
      if (!FromHex(tls.cert_name.substr(prefix.size()), digest) || digest.size() != 32) {
        throw UsageError("--cert-name: '" + tls.cert_name + "' is not sha256-raw:<64 hex>");
      }
    }
  }
  return tls;
}

}  // namespace punchlab::cli
