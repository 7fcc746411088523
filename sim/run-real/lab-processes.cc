#include "run-real/lab-processes.h"

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>

#include "lab/lab-error.h"
#include "punchlab/control/access-rules.h"
#include "punchlab/control/identity.h"
#include "punchlab/crypto/sign.h"
#include "realio/os-random.h"
#include "realio/tls-context.h"
#include "realio/wall-clock.h"
#include "results/run-options.h"
#include "run-real/programs.h"
#include "scenario/facts.h"
#include "scenario/meaning/control-names.h"
#include "scenario/meaning/port-mapping.h"

namespace punchlab::runreal {
namespace {

// Tokens outlive the run by this much (the control server judges expiry on
// the wall clock).
constexpr Duration kTokenSlack = Duration::Seconds(3600);
constexpr Duration kStopGrace = Duration::Seconds(3);
// A released node prints its first line within a millisecond (it is up and
// waiting); the bound only keeps a broken one from holding the run.
constexpr Duration kReleaseTimeout = Duration::Seconds(2);
constexpr Duration kReleasePoll = Duration::Millis(1);
// The lab's own processes (nodes, DERP servers, control) at SCHED_FIFO, below
// the wire (10, netns-lab.cc): under a loaded machine's compilers a node at
// nice -10 answered up to 35 ms late now and then, which the simulation never
// does (bench/README.md, fidelity). They are event-driven and light, and the
// kernel's RT throttling leaves normal processes at least 5% of every second.
constexpr int kLabProcessPriority = 5;

std::string LastLines(const std::string& text, size_t max_lines) {
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == ' ')) --end;
  size_t start = end;
  for (size_t lines = 0; start > 0 && lines < max_lines;) {
    --start;
    if (text[start] == '\n' && ++lines == max_lines) {
      ++start;
      break;
    }
  }
  std::string out = text.substr(start, end - start);
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

}  // namespace

std::string FindNodeBinary() {
  if (const char* env = std::getenv("PUNCHLAB_NODE_BIN"); env && *env) {
    if (!Executable(env)) {
      throw results::RunError(std::string("PUNCHLAB_NODE_BIN=") + env + " is not an executable");
    }
    return env;
  }
  std::vector<char> self(4096);
  const ssize_t n = readlink("/proc/self/exe", self.data(), self.size() - 1);
  if (n > 0) {
    const std::string exe(self.data(), static_cast<size_t>(n));
    const std::string sibling = exe.substr(0, exe.rfind('/') + 1) + "punchlab-node";
    if (Executable(sibling)) return sibling;
  }
  if (const char* path = std::getenv("PATH")) {
    std::string dirs = path;
    size_t start = 0;
    while (start <= dirs.size()) {
      const size_t colon = std::min(dirs.find(':', start), dirs.size());
      const std::string candidate = dirs.substr(start, colon - start) + "/punchlab-node";
      if (colon > start && Executable(candidate)) return candidate;
      start = colon + 1;
    }
  }
  throw results::RunError(
      "punchlab-node not found: build it (it sits next to punchlab in the build tree) or set "
      "PUNCHLAB_NODE_BIN");
}

LabProcesses::LabProcesses(LabWorld& world, const scenario::Scenario& scenario,
                           const LabPlan& plan, std::string node_bin, uint64_t seed,
                           std::vector<std::string>& notes)
    : world_(world),
      scenario_(scenario),
      plan_(plan),
      node_bin_(std::move(node_bin)),
      seed_(seed),
      notes_(notes),
      node_runs_(scenario.nodes.size()),
      derp_runs_(scenario.derp_regions.size()) {}

LabProcesses::~LabProcesses() {
  std::error_code ignored;
  if (!program_root_.empty()) std::filesystem::remove_all(program_root_, ignored);
  if (!tls_root_.empty()) std::filesystem::remove_all(tls_root_, ignored);
}

namespace {

// A self-signed certificate for the region's server (OpenSSL, no shell), in
// files under `dir` (the lab's TempDir, 0700); the DERP map pins it.
DerpTls MakeDerpTls(const std::string& dir, const HostPlan& host) {
  std::vector<IpAddress> ips;
  if (const auto ip = IpAddress::Parse(host.uplink.address)) ips.push_back(*ip);
  const auto tls = realio::TlsServerContext::SelfSigned("derp-" + host.name, ips);
  DerpTls out;
  out.cert_file = dir + "/derp-" + host.name + ".crt";
  out.key_file = dir + "/derp-" + host.name + ".key";
  out.pin = tls->CertPin();
  std::ofstream(out.cert_file) << tls->CertPem();
  std::ofstream(out.key_file) << tls->KeyPem();
  return out;
}

}  // namespace

void LabProcesses::KeepTime(lab::ChildProcess& child) {
  if (realtime_refused_) return;
  sched_param param{};
  param.sched_priority = kLabProcessPriority;
  // Set from here, before or just after its exec: the policy survives exec.
  if (sched_setscheduler(child.pid(), SCHED_FIFO, &param) == 0 || errno == ESRCH) return;
  realtime_refused_ = true;
  notes_.push_back(std::string("the lab's nodes and servers run at normal priority (SCHED_FIFO ") +
                   "refused: " + std::strerror(errno) + "): on a loaded machine their RTTs " +
                   "have a tail the simulation does not");
}

lab::ChildProcess& LabProcesses::Spawn(const std::string& ns, const std::string& name,
                                       const std::vector<std::string>& argv, bool stdin_pipe) {
  lab::ChildProcess& child = world_.lab().Spawn(world_.Ns(ns), argv, stdin_pipe);
  KeepTime(child);
  Proc p;
  p.name = name;
  p.child = &child;
  procs_.push_back(std::move(p));
  node_stopped_at_.emplace_back();
  return child;
}

void LabProcesses::StartServers() {
  realio::OsRandom rng;
  std::vector<std::string> derp_public_keys;
  for (size_t i = 0; i < scenario_.derp_regions.size(); ++i) {
    const NodePrivateKey key = NodePrivateKey::Generate(rng);
    derp_private_keys_.push_back(key.ToSecretString());
    derp_public_keys.push_back(key.Public().ToString());
    if (tls_root_.empty()) {
      // In the lab's own directory: removed with the lab, also by its guard
      // when the runner is killed (kill -9).
      tls_root_ = world_.lab().TempDir() + "/derp-tls";
      std::filesystem::create_directories(tls_root_);
    }
    derp_tls_.push_back(MakeDerpTls(tls_root_, plan_.derp[i]));
    derp_tls_.back().keylog_file = key_logs_.tls;
    StartDerp(i);
  }
  const SigningKey idp_key = SigningKey::Generate(rng);
  const control::IdentityProvider idp(idp_key.Clone());
  const NodePrivateKey control_key = NodePrivateKey::Generate(rng);
  control_key_ = control_key.Public().ToString();
  // The scenario's access rules, as the simulation's control server gets
  // them (ControlAccessRules), in the lab's own directory.
  std::string acls_file;
  if (!scenario_.control.acls.empty()) {
    acls_file = world_.lab().TempDir() + "/control-acls.json";
    std::ofstream(acls_file) << control::EncodeAccessRules(scenario::ControlAccessRules(scenario_));
  }
  lab::ChildProcess& control =
      Spawn(plan_.control.ns, "control",
            ControlServerArgv(node_bin_, plan_, scenario_, idp.verify_key().ToString(),
                              control_key.ToSecretString(), derp_public_keys, derp_tls_,
                              key_logs_, acls_file));
  control.WaitForLine(std::regex("^control-server listening on "), kServerReadyTimeout);

  const Timestamp expires = realio::UnixNow() + scenario_.stop_time + kTokenSlack;
  for (const scenario::NodeDef& node : scenario_.nodes) {
    if (node.run) {
      identities_.emplace_back();  // a program has no key of ours
      continue;
    }
    const NodePrivateKey key = NodePrivateKey::Generate(rng);
    const control::IdentityClaims claims =
        NodeClaims(scenario_, static_cast<size_t>(&node - scenario_.nodes.data()), key.Public(),
                   expires);
    const std::optional<std::string> token = idp.Issue(claims);
    if (!token) {
      throw lab::LabError("the lab's identity provider refused a token for node " + node.name +
                          " in domain " + claims.domain);
    }
    identities_.push_back({key.ToSecretString(), key.Public().ToString(), *token});
  }
}

void LabProcesses::StartDerp(size_t region) {
  const HostPlan& host = plan_.derp[region];
  lab::ChildProcess& child =
      Spawn(host.ns, "derp-" + host.name + "." + std::to_string(derp_runs_[region].size()),
            DerpServerArgv(node_bin_, host, derp_private_keys_[region], scenario_.stop_time,
                           derp_tls_[region]));
  derp_runs_[region].push_back(procs_.size() - 1);
  child.WaitForLine(std::regex("^derp-server listening on "), kServerReadyTimeout);
}

void LabProcesses::StopDerp(size_t region) {
  if (derp_runs_[region].empty()) return;
  Proc& p = procs_[derp_runs_[region].back()];
  p.stopped_by_us = true;
  p.child->Stop(kStopGrace);
}

std::vector<std::string> LabProcesses::NodeCommand(size_t index, Duration at, bool gated) const {
  const scenario::NodeDef& node = scenario_.nodes[index];
  // A restart keeps the flows' schedule: the anchor the node's earlier runs
  // started their flows from (the first up, or the start + kUpDeadline if
  // that came first; a restart given it prints it again), as the
  // simulation's traffic driver keeps it.
  std::optional<Duration> up_at;
  for (size_t run : node_runs_[index]) {
    const Proc& p = procs_[run];
    if (p.child != nullptr && (up_at = FlowsAnchorOf(p.child->Stdout()))) break;
  }
  return NodeArgv(node_bin_, plan_.nodes[index], plan_.control.uplink.address, control_key_,
                  identities_[index], FlowsFrom(scenario_, node.name, identities_, seed_),
                  epoch_unix_ns_, scenario_.stop_time, node.timers, scenario_.disco_log,
                  scenario::PortMappingGateway(scenario_, node) != nullptr,
                  node.data_plane, at, gated, key_logs_,
                  node.start + scenario::ProbeSchedule::kUpDeadline, up_at);
}

void LabProcesses::StartProgram(size_t index, Duration at) {
  const HostPlan& host = plan_.nodes[index];
  const scenario::Program& program = *scenario_.nodes[index].run;
  const std::string name = "node-" + host.name + "." + std::to_string(node_runs_[index].size());
  if (program_root_.empty()) {
    // In the lab's own directory, as the DERP certificates: removed with the
    // lab, also by its guard when the runner is killed (kill -9).
    program_root_ = world_.lab().TempDir() + "/programs";
    std::filesystem::create_directories(program_root_);
  }
  const std::string dir = program_root_ + "/" + name;
  std::filesystem::create_directories(dir);
  std::vector<std::string> pins;
  for (const DerpTls& tls : derp_tls_) pins.push_back(tls.pin);
  const auto facts = ProgramFacts(scenario_, plan_, index, dir, seed_, pins);
  Proc p;
  p.name = name;
  p.program_node = index;
  p.started_at = at;
  for (const auto& [file, text] : program.files) {
    const std::filesystem::path path = std::filesystem::path(dir) / file;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << scenario::FillFacts(text, facts);
  }
  const std::vector<std::string> argv = ProgramArgv(program, facts, dir);
  p.command = lab::JoinCommand(std::vector<std::string>(argv.end() - static_cast<std::ptrdiff_t>(program.command.size()), argv.end()));
  const char* path_env = std::getenv("PATH");
  if (auto why = CannotExecute(scenario::FillFacts(program.command.front(), facts), dir,
                               path_env ? path_env : "")) {
    p.never_started = *why;
  } else {
    try {
      p.child = &world_.lab().Spawn(world_.Ns(host.ns), argv);
    } catch (const lab::LabError& e) {
      p.never_started = e.what();
    }
  }
  procs_.push_back(std::move(p));
  node_stopped_at_.emplace_back();
  node_runs_[index].push_back(procs_.size() - 1);
}

void LabProcesses::StopProc(Proc& p) {
  p.stopped_by_us = true;
  if (p.child == nullptr) return;
  if (!p.program_node) {
    p.child->Stop(kStopGrace);
    return;
  }
  const Duration grace = scenario_.nodes[*p.program_node].run->stop_grace;
  p.child->Stop(grace);
  // And what it left outside its process group (a daemon: double fork and
  // setsid), before a restart's run wants its port: the node's namespace
  // is the program's alone, but for the lab's own processes (a capture).
  world_.lab().EndStrays(world_.Ns(plan_.nodes[*p.program_node].ns), grace);
}

void LabProcesses::StartNode(size_t index, Duration at, bool gated) {
  if (scenario_.nodes[index].run) {
    StartProgram(index, at);
    return;
  }
  const HostPlan& host = plan_.nodes[index];
  Spawn(host.ns, "node-" + host.name + "." + std::to_string(node_runs_[index].size()),
        NodeCommand(index, at, gated), gated);
  procs_.back().started_at = at;
  node_runs_[index].push_back(procs_.size() - 1);
}

void LabProcesses::ReleaseNode(size_t index) {
  if (node_runs_[index].empty()) return;
  Proc& p = procs_[node_runs_[index].back()];
  try {
    p.child->WriteStdin("\n");
    p.child->WaitForLine(std::regex(R"("event":"started")"), kReleaseTimeout,
                         lab::ChildProcess::Stream::kStdout, kReleasePoll);
  } catch (const lab::Interrupted&) {
    throw;  // a signal ends the run here, as in every other wait
  } catch (const lab::LabError& e) {
    notes_.push_back(p.name + " did not start when released: " + e.what());
  }
}

void LabProcesses::RestartNode(size_t index, Duration at) {
  if (!node_runs_[index].empty()) {
    const size_t last = node_runs_[index].back();
    Proc& p = procs_[last];
    if (p.program_node && !p.stopped_by_us && p.child != nullptr && p.child->exited() &&
        !p.exited_at) {
      p.exited_at = at;
    }
    StopProc(p);
    node_stopped_at_[last] = at;
  }
  StartNode(index, at);
}

void LabProcesses::NoteExited(Duration now) {
  for (Proc& p : procs_) {
    if (p.child == nullptr || p.stopped_by_us || p.exit_noted) continue;
    if (p.program_node) {
      const scenario::Program& program = *scenario_.nodes[*p.program_node].run;
      if (p.child->exited()) {
        p.exit_noted = true;
        p.exited_at = now;
      } else if (p.child->OutputBytes() > program.max_output_bytes) {
        p.exit_noted = true;
        p.output_flood = true;
        p.exited_at = now;
        StopProc(p);
      }
      continue;
    }
    if (!p.child->exited()) continue;
    p.exit_noted = true;
    notes_.push_back(p.name + " exited by itself at about " + now.ToString() + " (" +
                     p.child->DescribeStatus() + "): " + LastLines(p.child->Stderr(), 3));
  }
}

std::vector<std::vector<ProcessRun>> LabProcesses::StopAll() {
  // Nodes first: they leave control and DERP while those still run.
  for (const auto& runs : node_runs_) {
    for (size_t i : runs) {
      if (!procs_[i].stopped_by_us) StopProc(procs_[i]);
    }
  }
  for (Proc& p : procs_) {
    if (!p.stopped_by_us) StopProc(p);
  }
  std::vector<std::vector<ProcessRun>> out(node_runs_.size());
  for (size_t n = 0; n < node_runs_.size(); ++n) {
    for (size_t i : node_runs_[n]) {
      const Proc& p = procs_[i];
      out[n].push_back({p.child != nullptr ? p.child->Stdout() : "", node_stopped_at_[i],
                        p.started_at});
    }
  }
  return out;
}

std::vector<results::ProgramReport> LabProcesses::ProgramReports() const {
  using Status = results::ProgramReport::Status;
  std::vector<results::ProgramReport> out;
  for (const Proc& p : procs_) {
    if (!p.program_node) continue;
    const scenario::Program& program = *scenario_.nodes[*p.program_node].run;
    results::ProgramReport r;
    r.node = scenario_.nodes[*p.program_node].name;
    r.command = p.command;
    r.started_at = p.started_at;
    if (p.child == nullptr) {
      r.status = Status::kNeverStarted;
      r.detail = p.never_started;
      r.output_matches.resize(program.expect_output.size());
      out.push_back(std::move(r));
      continue;
    }
    const std::string stdout_text = p.child->Stdout();
    const std::string stderr_text = p.child->Stderr();
    r.exit_code = p.child->exit_code();
    r.output_bytes = stdout_text.size() + stderr_text.size();
    r.output_matches = MatchOutput(program.expect_output, stdout_text, stderr_text);
    size_t malformed = 0;
    r.reported_paths = ReportedPaths(stdout_text, epoch_unix_ns_, malformed);
    if (malformed > 0) {
      notes_.push_back(p.name + ": " + std::to_string(malformed) +
                       " \"punchlab\": \"path\" lines lacked peer, a path (direct, derp, "
                       "local, none) or unix_ms and were ignored");
    }
    r.exited_at = p.exited_at;
    // Killed by the lab for its output, or by the kernel (SIGXFSZ: a write
    // past max_output).
    if (p.output_flood || r.exit_code == 128 + SIGXFSZ ||
        r.output_bytes >= program.max_output_bytes) {
      r.status = Status::kOutputFlood;
    } else if (p.exited_at) {
      r.status = Status::kExited;
      r.detail = LastLines(stderr_text, 3);
      // env(1) and prlimit(1) exec the program: their own failure is the
      // program never starting (found but not runnable, a bad interpreter...).
      if ((r.exit_code == 126 || r.exit_code == 127) &&
          (stderr_text.rfind("env: ", 0) == 0 || stderr_text.rfind("prlimit: ", 0) == 0)) {
        r.status = Status::kNeverStarted;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::map<std::string, std::map<std::string, uint64_t>> LabProcesses::Counters() const {
  static const std::regex kDerpStats(
      R"((\d+) connections, (\d+) clients registered, (\d+) packets relayed \((\d+) bytes\).*? (\d+) stun requests)");
  static const std::regex kTlsStats(R"((\d+) tls handshakes, (\d+) failed)");
  std::map<std::string, std::map<std::string, uint64_t>> out;
  for (size_t r = 0; r < derp_runs_.size(); ++r) {
    auto& c = out["derp/" + scenario_.derp_regions[r].name];
    c["server_runs"] = derp_runs_[r].size();
    for (size_t i : derp_runs_[r]) {
      std::smatch m;
      const std::string err = procs_[i].child->Stderr();
      if (!std::regex_search(err, m, kDerpStats)) continue;
      c["connections"] += std::stoull(m[1]);
      c["clients_registered"] += std::stoull(m[2]);
      c["packets_relayed"] += std::stoull(m[3]);
      c["bytes_relayed"] += std::stoull(m[4]);
      c["stun_requests"] += std::stoull(m[5]);
      if (std::regex_search(err, m, kTlsStats)) {
        c["tls_handshakes"] += std::stoull(m[1]);
        c["tls_failures"] += std::stoull(m[2]);
      }
    }
  }
  return out;
}

NodeDirectory LabProcesses::Directory() const {
  NodeDirectory d;
  for (size_t i = 0; i < scenario_.nodes.size() && i < identities_.size(); ++i) {
    if (!scenario_.nodes[i].run) d.name_by_key[identities_[i].public_key] = scenario_.nodes[i].name;
  }
  return d;
}

void LabProcesses::SaveLogs(const std::string& dir) const {
  for (const Proc& p : procs_) {
    if (p.child == nullptr) {
      std::ofstream(dir + "/" + p.name + ".cmd") << p.command << "\n";
      std::ofstream(dir + "/" + p.name + ".err") << "never started: " << p.never_started << "\n";
      continue;
    }
    std::vector<std::string> argv = p.child->argv();
    // Keys and tokens were only good for this run, but stay out of files anyway.
    for (size_t i = 1; i < argv.size(); ++i) {
      if (argv[i - 1] == "--private-key" || argv[i - 1] == "--token") argv[i] = "(secret)";
    }
    std::ofstream(dir + "/" + p.name + ".cmd") << lab::JoinCommand(argv) << "\n";
    std::ofstream(dir + "/" + p.name + ".out") << p.child->Stdout();
    std::ofstream(dir + "/" + p.name + ".err") << p.child->Stderr();
  }
}

}  // namespace punchlab::runreal
